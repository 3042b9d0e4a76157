import Foundation
import Synchronization

@testable import Telemetry

/// Parses one JSON log line into a dictionary (fails the test on invalid JSON).
func parseJSONLine(_ line: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    guard let dictionary = object as? [String: Any] else { throw TestFailure("log line is not a JSON object: \(line)") }
    return dictionary
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

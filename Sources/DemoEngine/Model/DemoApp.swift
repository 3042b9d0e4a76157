import JSONCore

/// One sample app of the demo engine: data model plus the app's objects and metadata.
public struct DemoApp: Sendable {
    public struct MasterMeasure: Sendable {
        public let id, title, description, expression, label: String
        public let tags: [String]
    }
    public struct MasterDimension: Sendable {
        public let id, title, description: String
        public let fields: [String]
        public let tags: [String]
    }
    public struct Variable: Sendable {
        public let id, name, definition, comment: String
        public let tags: [String]
    }
    /// A sheet or a visualization: a generic object with properties (JSON, as Qlik stores them).
    public struct AppObject: Sendable {
        public let id, type: String
        public let properties: JSONValue
        public let children: [String]
    }
    public struct Bookmark: Sendable {
        public let id, title, description: String
        /// field → selected values (by text)
        public let selections: [(field: String, values: [String])]
    }
    public struct Connection: Sendable {
        public let id, name, type, connectionString: String
    }
    public struct Reload: Sendable {
        public let id, status, startTime, endTime: String
        public let durationSeconds: Double
        public let log: String
    }

    public let id: String
    public let title: String
    public let description: String
    public let stream: String
    public let owner: String
    public let createdDate: String
    public let modifiedDate: String
    public let lastReloadTime: String
    public let model: DataModel
    public let measures: [MasterMeasure]
    public let dimensions: [MasterDimension]
    public let variables: [Variable]
    public let objects: [AppObject]
    public let bookmarks: [Bookmark]
    public let script: String
    public let connections: [Connection]
    /// (discriminator, statement) pairs consistent with the script.
    public let lineage: [(discriminator: String, statement: String)]
    public let reloads: [Reload]

    public var sheets: [AppObject] { objects.filter { $0.type == "sheet" } }
    public func object(id: String) -> AppObject? { objects.first { $0.id == id } }
}

/// A deterministic PRNG (SplitMix64) so sample apps are the same on every machine.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func double(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    /// Index with weights (higher weight, more likely).
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var point = double(0...total)
        for (index, weight) in weights.enumerated() {
            point -= weight
            if point <= 0 { return index }
        }
        return weights.count - 1
    }
}

extension Double {
    /// Rounded to `places` decimals (money).
    func rounded(places: Int) -> Double {
        let factor = pow(10.0, Double(places))
        return (self * factor).rounded() / factor
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

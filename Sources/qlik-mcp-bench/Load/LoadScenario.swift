import Foundation
import JSONCore
import Synchronization

/// The workloads of `bench load`.
enum LoadScenario: String, CaseIterable, Codable, Sendable {
    /// `get_engine_info` (one engine round trip, tiny answer).
    case trivial
    /// `list_measures` (master measures of the sales app).
    case metadata
    /// `query_data`: 2 dimensions × 2 measures over the 120,000-row sales fact table.
    case data
    /// An assistant's session: initialize → tools/list → 10 mixed calls (over HTTP a new session
    /// each time; over stdio the process's one session, initialized once).
    case mixed
    /// N sessions opened and initialized at the same time (HTTP only).
    case storm

    /// What one operation is, for the throughput unit.
    var unit: String {
        switch self {
        case .mixed: return "sessions/s"
        case .storm: return "inits/s"
        default: return "calls/s"
        }
    }
}

/// Builds the operation a scenario runs against one running target.
final class ScenarioDriver: Sendable {
    let scenario: LoadScenario
    let target: RunningTarget
    /// Pre-opened sessions for single-call scenarios (operation `n` uses `sessions[n % count]`).
    let sessions: [any MCPBenchSession]
    /// Storm sessions, closed after the run.
    let opened = Mutex<[any MCPBenchSession]>([])

    init(scenario: LoadScenario, target: RunningTarget, sessions: [any MCPBenchSession]) {
        self.scenario = scenario
        self.target = target
        self.sessions = sessions
    }

    /// Why the target cannot run the scenario, or nil.
    static func unsupportedReason(_ scenario: LoadScenario, on target: BenchTarget) -> String? {
        switch scenario {
        case .trivial, .metadata, .data:
            guard target.tools[scenario.rawValue] == nil else { return nil }
            return target.unsupported?[scenario.rawValue] ?? "no equivalent tool"
        case .mixed:
            return target.tools.isEmpty ? "no tools mapped" : nil
        case .storm:
            return target.transport == .stdio ? "a stdio server has one session per process" : nil
        }
    }

    func operation() -> LoadGenerator.Operation {
        switch scenario {
        case .trivial, .metadata, .data:
            let call = target.target.tools[scenario.rawValue]!
            return { [sessions] index in
                do { return try await sessions[index % sessions.count].callTool(call) } catch { return "\(error)" }
            }
        case .mixed:
            let calls = ["trivial", "metadata", "data"].compactMap { target.target.tools[$0] }
            return { [target, sessions] _ in
                do {
                    let session = target.target.transport == .stdio ? sessions[0] : try await target.newSession()
                    defer { if target.target.transport == .http { Task { await session.close() } } }
                    if let failure = responseFailure(try await session.request("tools/list", [:])) { return failure }
                    for step in 0..<10 {
                        if let failure = try await session.callTool(calls[step % calls.count]) { return failure }
                    }
                    return nil
                } catch {
                    return "\(error)"
                }
            }
        case .storm:
            return { [target, self] _ in
                do {
                    let session = try await target.newSession()
                    self.opened.withLock { $0.append(session) }
                    return nil
                } catch {
                    return "\(error)"
                }
            }
        }
    }

    func closeStormSessions() async {
        for session in opened.withLock({ $0 }) { await session.close() }
    }
}

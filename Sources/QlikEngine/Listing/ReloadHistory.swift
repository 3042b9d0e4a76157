import Foundation
import JSONCore

/// A scheduled reload task, normalised across QRS (Enterprise), Qlik Cloud and the demo engine.
public struct ReloadTaskSummary: Sendable, Equatable {
    public var id: String
    public var name: String
    public var appID: String
    public var enabled: Bool
    /// Human-readable schedule or trigger, when the API tells.
    public var schedule: String?
    /// Status of the last execution (see `ReloadRecord.status`).
    public var lastStatus: String?
    public var lastStart: String?
    public var lastEnd: String?

    public init(
        id: String, name: String, appID: String, enabled: Bool, schedule: String? = nil,
        lastStatus: String? = nil, lastStart: String? = nil, lastEnd: String? = nil
    ) {
        self.id = id
        self.name = name
        self.appID = appID
        self.enabled = enabled
        self.schedule = schedule
        self.lastStatus = lastStatus
        self.lastStart = lastStart
        self.lastEnd = lastEnd
    }
}

/// One past or running reload of an app.
public struct ReloadRecord: Sendable, Equatable {
    public var id: String
    public var appID: String
    /// SUCCEEDED, FAILED, RUNNING, QUEUED, CANCELED, SKIPPED or UNKNOWN.
    public var status: String
    public var startTime: String?
    public var endTime: String?
    public var durationSeconds: Double?
    /// Script log or the API's message (trimmed to `ReloadRecord.maxLogCharacters`).
    public var log: String?

    public static let maxLogCharacters = 20_000

    public init(
        id: String, appID: String, status: String, startTime: String? = nil, endTime: String? = nil,
        durationSeconds: Double? = nil, log: String? = nil
    ) {
        self.id = id
        self.appID = appID
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.durationSeconds = durationSeconds
        self.log = log.map { String($0.suffix(Self.maxLogCharacters)) }
    }
}

/// Where reload tasks and history come from. QRS and Qlik Cloud are implemented by
/// `QlikReloadSource`; the demo engine brings its own; Qlik Sense Desktop has none.
public protocol ReloadSource: Sendable {
    /// Tasks, all or those of one app.
    func reloadTasks(appID: String?) async throws -> [ReloadTaskSummary]
    /// Reloads of an app, newest first, at most `limit`.
    func reloadHistory(appID: String, limit: Int) async throws -> [ReloadRecord]
}

/// Reload tasks and history from the Qlik REST APIs: QRS `reloadtask` and `executionresult`
/// (Enterprise), `reload-tasks` and `reloads` (Cloud).
public struct QlikReloadSource: ReloadSource {
    public let endpoint: QIXEndpoint
    public var qrsPort = 4242
    /// Base URL override (tests, or a proxy in front of QRS / Qlik Cloud).
    public var restBaseURL: String?
    public var timeout: Duration = .seconds(20)

    /// Nil for Qlik Sense Desktop, which has no tasks or reload history.
    public init?(endpoint: QIXEndpoint) {
        guard endpoint.deployment != .desktop else { return nil }
        self.endpoint = endpoint
    }

    private var rest: QlikREST { QlikREST(endpoint: endpoint, timeout: timeout) }

    public func reloadTasks(appID: String?) async throws -> [ReloadTaskSummary] {
        switch endpoint.deployment {
        case .cloud:
            var url = "\(restBaseURL ?? "https://\(endpoint.host)")/api/v1/reload-tasks?limit=100"
            if let appID { url += "&appId=\(Self.escape(appID))" }
            let body = try await rest.get(url, headers: endpoint.headers)
            return (body["data"]?.arrayValue ?? []).map { task in
                ReloadTaskSummary(
                    id: task["id"]?.stringValue ?? "", name: task["name"]?.stringValue ?? task["id"]?.stringValue ?? "",
                    appID: task["appId"]?.stringValue ?? "", enabled: task["state"]?.stringValue != "Disabled",
                    schedule: task["recurrence"]?.arrayValue?.compactMap(\.stringValue).joined(separator: "; "),
                    lastStatus: nil, lastStart: task["lastExecutionTime"]?.stringValue)
            }
        default:
            let body = try await qrs("/qrs/reloadtask/full", filter: appID.map { "app.id eq \($0)" })
            guard case .array(let tasks) = body else { throw QIXClientError.protocolViolation("QRS /qrs/reloadtask/full did not return an array") }
            return tasks.map { task in
                let last = task["operational"]?["lastExecutionResult"]
                return ReloadTaskSummary(
                    id: task["id"]?.stringValue ?? "", name: task["name"]?.stringValue ?? "", appID: task["app"]?["id"]?.stringValue ?? "",
                    enabled: task["enabled"]?.boolValue ?? true, schedule: task["operational"]?["nextExecution"]?.stringValue.map { "next run \($0)" },
                    lastStatus: last?["status"]?.intValue.map(Self.qrsStatus), lastStart: last?["startTime"]?.stringValue,
                    lastEnd: last?["stopTime"]?.stringValue)
            }
        }
    }

    public func reloadHistory(appID: String, limit: Int) async throws -> [ReloadRecord] {
        switch endpoint.deployment {
        case .cloud:
            let url = "\(restBaseURL ?? "https://\(endpoint.host)")/api/v1/reloads?appId=\(Self.escape(appID))&limit=\(max(1, min(limit, 100)))"
            let body = try await rest.get(url, headers: endpoint.headers)
            return (body["data"]?.arrayValue ?? []).prefix(limit).map { reload in
                ReloadRecord(
                    id: reload["id"]?.stringValue ?? "", appID: reload["appId"]?.stringValue ?? appID,
                    status: Self.cloudStatus(reload["status"]?.stringValue), startTime: reload["startTime"]?.stringValue,
                    endTime: reload["endTime"]?.stringValue, durationSeconds: reload["duration"]?.doubleValue.map { $0 / 1000 },
                    log: reload["log"]?.stringValue)
            }
        default:
            let body = try await qrs("/qrs/executionresult/full", filter: "appID eq \(appID)")
            guard case .array(let results) = body else { throw QIXClientError.protocolViolation("QRS /qrs/executionresult/full did not return an array") }
            let records = results.map { result in
                ReloadRecord(
                    id: result["id"]?.stringValue ?? "", appID: result["appID"]?.stringValue ?? appID,
                    status: Self.qrsStatus(result["status"]?.intValue ?? -1), startTime: result["startTime"]?.stringValue,
                    endTime: result["stopTime"]?.stringValue, durationSeconds: result["duration"]?.doubleValue.map { $0 / 1000 },
                    log: (result["details"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }.joined(separator: "\n"))
            }
            return Array(records.sorted { ($0.startTime ?? "") > ($1.startTime ?? "") }.prefix(limit))
        }
    }

    private func qrs(_ path: String, filter: String?) async throws -> JSONValue {
        let xrf = AppLister.makeXrfKey()
        var url = "\(restBaseURL ?? "https://\(endpoint.host):\(qrsPort)")\(path)?xrfkey=\(xrf)"
        if let filter { url += "&filter=\(Self.escape(filter))" }
        return try await rest.get(url, headers: [("X-Qlik-Xrfkey", xrf)] + endpoint.headers)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// QRS execution status codes (`TaskExecutionStatus`).
    static func qrsStatus(_ code: Int) -> String {
        switch code {
        case 7: return "SUCCEEDED"
        case 8, 11: return "FAILED"
        case 1, 2, 4, 5, 10: return "RUNNING"
        case 3: return "QUEUED"
        case 6: return "CANCELED"
        case 9: return "SKIPPED"
        default: return "UNKNOWN"
        }
    }

    /// Qlik Cloud reload statuses, mapped to the same vocabulary.
    static func cloudStatus(_ status: String?) -> String {
        switch status?.uppercased() {
        case "SUCCEEDED": return "SUCCEEDED"
        case "FAILED", "EXCEEDED_LIMIT": return "FAILED"
        case "RELOADING": return "RUNNING"
        case "QUEUED", "CREATED": return "QUEUED"
        case "CANCELED", "CANCELING": return "CANCELED"
        default: return "UNKNOWN"
        }
    }
}

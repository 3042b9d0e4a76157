import Foundation
import OTLPProto
import SwiftProtobuf

extension OTLPEncoding {
    /// Encodes `records` under `resource` as the body of `POST /v1/logs`: one `ScopeLogs` per
    /// logger label, records in their original order.
    public static func encodeLogsRequest(_ records: [LogRecordData], resource: TelemetryResource) throws -> Data {
        var scopes: [String: [Opentelemetry_Proto_Logs_V1_LogRecord]] = [:]
        var order: [String] = []
        for record in records {
            if scopes[record.scope] == nil { order.append(record.scope) }
            scopes[record.scope, default: []].append(logRecord(record))
        }
        var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
        resourceLogs.resource = protoResource(resource)
        resourceLogs.scopeLogs = order.map { name in
            var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
            scope.name = name
            scope.version = resource.serviceVersion
            var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            scopeLogs.scope = scope
            scopeLogs.logRecords = scopes[name] ?? []
            return scopeLogs
        }
        var request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest()
        request.resourceLogs = [resourceLogs]
        return try request.serializedData()
    }

    static func logRecord(_ record: LogRecordData) -> Opentelemetry_Proto_Logs_V1_LogRecord {
        var proto = Opentelemetry_Proto_Logs_V1_LogRecord()
        proto.timeUnixNano = record.timeUnixNano
        proto.observedTimeUnixNano = record.timeUnixNano
        proto.severityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber(rawValue: record.severityNumber) ?? .unspecified
        proto.severityText = record.severityText
        proto.body.stringValue = record.body
        proto.attributes = keyValues(record.attributes)
        if let traceID = record.traceID { proto.traceID = traceID.data }
        if let spanID = record.spanID { proto.spanID = spanID.data }
        return proto
    }
}

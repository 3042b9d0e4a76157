import Foundation
import OTLPProto
import SwiftProtobuf
import Tracing

/// Converts finished spans into the OTLP protobuf messages (generated from the OpenTelemetry
/// proto files) and serializes an `ExportTraceServiceRequest`.
public enum OTLPEncoding {
    /// Instrumentation scope name written on every batch.
    public static let scopeName = "qlik-mcp"

    /// Encodes `spans` under `resource` as the body of `POST /v1/traces`.
    public static func encodeRequest(_ spans: [SpanRecord], resource: TelemetryResource) throws -> Data {
        try request(spans, resource: resource).serializedData()
    }

    static func request(_ spans: [SpanRecord], resource: TelemetryResource) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = scopeName
        scope.version = resource.serviceVersion
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope = scope
        scopeSpans.spans = spans.map(span)
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource = protoResource(resource)
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    static func protoResource(_ resource: TelemetryResource) -> Opentelemetry_Proto_Resource_V1_Resource {
        var proto = Opentelemetry_Proto_Resource_V1_Resource()
        proto.attributes = resource.attributes.keys.sorted().map { key in
            keyValue(key, resource.attributes[key]!)
        }
        return proto
    }

    static func span(_ record: SpanRecord) -> Opentelemetry_Proto_Trace_V1_Span {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = record.context.traceID.data
        span.spanID = record.context.spanID.data
        if let parent = record.parentSpanID { span.parentSpanID = parent.data }
        if let state = record.context.traceState { span.traceState = state }
        span.flags = UInt32(record.context.traceFlags)
        span.name = record.name
        span.kind = kind(record.kind)
        span.startTimeUnixNano = record.startNanos
        span.endTimeUnixNano = record.endNanos
        span.attributes = keyValues(record.attributes)
        span.events = record.events.map { event in
            var proto = Opentelemetry_Proto_Trace_V1_Span.Event()
            proto.name = event.name
            proto.timeUnixNano = event.nanosecondsSinceEpoch
            proto.attributes = keyValues(event.attributes)
            return proto
        }
        span.links = record.links.map { link in
            var proto = Opentelemetry_Proto_Trace_V1_Span.Link()
            proto.traceID = link.context.traceID.data
            proto.spanID = link.context.spanID.data
            if let state = link.context.traceState { proto.traceState = state }
            proto.flags = UInt32(link.context.traceFlags)
            proto.attributes = keyValues(link.attributes)
            return proto
        }
        if let status = record.status {
            var proto = Opentelemetry_Proto_Trace_V1_Status()
            proto.code = status.code == .ok ? .ok : .error
            if let message = status.message { proto.message = message }
            span.status = proto
        }
        return span
    }

    static func kind(_ kind: SpanKind) -> Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        switch kind {
        case .server: return .server
        case .client: return .client
        case .producer: return .producer
        case .consumer: return .consumer
        case .internal: return .internal
        }
    }

    static func keyValues(_ attributes: SpanAttributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        var result: [Opentelemetry_Proto_Common_V1_KeyValue] = []
        result.reserveCapacity(attributes.count)
        attributes.forEach { key, value in
            if let any = anyValue(value) {
                var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
                keyValue.key = key
                keyValue.value = any
                result.append(keyValue)
            }
        }
        return result
    }

    static func keyValue(_ key: String, _ value: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = key
        keyValue.value.stringValue = value
        return keyValue
    }

    static func anyValue(_ attribute: SpanAttribute) -> Opentelemetry_Proto_Common_V1_AnyValue? {
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        switch attribute {
        case .int32(let v): value.intValue = Int64(v)
        case .int64(let v): value.intValue = v
        case .double(let v): value.doubleValue = v
        case .bool(let v): value.boolValue = v
        case .string(let v): value.stringValue = v
        case .stringConvertible(let v): value.stringValue = v.description
        case .int32Array(let v): value.arrayValue = array(v.map { .int32($0) })
        case .int64Array(let v): value.arrayValue = array(v.map { .int64($0) })
        case .doubleArray(let v): value.arrayValue = array(v.map { .double($0) })
        case .boolArray(let v): value.arrayValue = array(v.map { .bool($0) })
        case .stringArray(let v): value.arrayValue = array(v.map { .string($0) })
        case .stringConvertibleArray(let v): value.arrayValue = array(v.map { .string($0.description) })
        default: return nil
        }
        return value
    }

    private static func array(_ values: [SpanAttribute]) -> Opentelemetry_Proto_Common_V1_ArrayValue {
        var array = Opentelemetry_Proto_Common_V1_ArrayValue()
        array.values = values.compactMap(anyValue)
        return array
    }
}

import ServiceContextModule
import Tracing

/// The identity of a span as propagated in W3C trace context: ids, flags and `tracestate`.
public struct SpanContext: Hashable, Sendable {
    public let traceID: TraceID
    public let spanID: SpanID
    /// W3C trace flags; bit 0 is "sampled".
    public let traceFlags: UInt8
    /// The opaque vendor `tracestate` header, passed through unchanged.
    public let traceState: String?
    /// True when this context came from another process (extracted from a carrier).
    public let isRemote: Bool

    public init(traceID: TraceID, spanID: SpanID, traceFlags: UInt8, traceState: String? = nil, isRemote: Bool = false) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.isRemote = isRemote
    }

    public var isSampled: Bool { traceFlags & 0x01 == 0x01 }
}

private enum SpanContextKey: ServiceContextKey {
    typealias Value = SpanContext
    static var nameOverride: String? { "qlik-mcp.span-context" }
}

private enum SessionIDKey: ServiceContextKey {
    typealias Value = String
    static var nameOverride: String? { "qlik-mcp.session-id" }
}

private enum MCPServerSpanKey: ServiceContextKey {
    typealias Value = any Tracing.Span
    static var nameOverride: String? { "qlik-mcp.server-span" }
}

private enum ToolNameKey: ServiceContextKey {
    typealias Value = String
    static var nameOverride: String? { "qlik-mcp.tool" }
}

extension ServiceContext {
    /// The span context of the active span (set by `QlikTracer`, or extracted from a carrier).
    public var spanContext: SpanContext? {
        get { self[SpanContextKey.self] }
        set { self[SpanContextKey.self] = newValue }
    }

    /// The MCP session id of the request being served.
    public var mcpSessionID: String? {
        get { self[SessionIDKey.self] }
        set { self[SessionIDKey.self] = newValue }
    }

    /// The server span of the MCP request being served (`tools/call get_app`, …), so the code
    /// that runs the request can add its attributes to that span instead of opening another.
    public var mcpServerSpan: (any Tracing.Span)? {
        get { self[MCPServerSpanKey.self] }
        set { self[MCPServerSpanKey.self] = newValue }
    }

    /// The MCP tool being called, if any.
    public var toolName: String? {
        get { self[ToolNameKey.self] }
        set { self[ToolNameKey.self] = newValue }
    }
}

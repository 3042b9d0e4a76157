import Foundation
import JSONCore
import Logging
import MCP
import QlikEngine
import QlikTools
import Testing

@testable import MCPServerHost

/// A session of a setup whose engine is never reached (these tests call no tool that needs it).
private func hostedSession() async throws -> HostedSession {
    let setup = try MCPServerSetup(
        backend: QlikBackend(kind: "test", endpoint: .desktop(host: "127.0.0.1", port: 9)),
        registry: try ToolRegistry(), dynamicToolsets: true)
    return await setup.makeSession(sessionID: "t")
}

@Suite("instrumented transport")
struct InstrumentedTransportTests {
    @Test("response ids are recognised with and without the fast path")
    func responseIDs() {
        #expect(InstrumentedTransport.responseID(Data(#"{"id":1,"jsonrpc":"2.0","result":{}}"#.utf8))?.0 == InstrumentedTransport.key(1))
        #expect(InstrumentedTransport.responseID(Data(#"{"id":"a-1","jsonrpc":"2.0","result":{}}"#.utf8))?.0 == InstrumentedTransport.key("a-1"))
        #expect(InstrumentedTransport.responseID(Data(#"{"error":{"code":-1,"message":"x"},"id":7,"jsonrpc":"2.0"}"#.utf8))?.1 == false)
        #expect(InstrumentedTransport.responseID(Data(#"{"jsonrpc":"2.0","method":"notifications/progress"}"#.utf8)) == nil)
        #expect(InstrumentedTransport.errorCode(Data(#"{"error":{"code":-32602,"message":"x"},"id":7,"jsonrpc":"2.0"}"#.utf8)) == -32602)
    }

    @Test("error types are bounded: known JSON-RPC codes, everything else 'other'")
    func errorTypes() {
        #expect(MCPRequestMetrics.errorType(code: -32602) == "-32602")
        #expect(MCPRequestMetrics.errorType(code: 12345) == "other")
        #expect(MCPRequestMetrics.methodLabel("tools/call") == "tools/call")
        #expect(MCPRequestMetrics.methodLabel("x/../../etc") == "other")
    }

    @Test("requests are counted from arrival to response; in-flight goes back to zero")
    func counts() async throws {
        let (client, server) = await InMemoryTransport.createConnectedPair()
        let inFlight = InFlightRequests()
        let wrapped = InstrumentedTransport(server, sessionID: "t", inFlight: inFlight, directToolCalls: try await hostedSession().directToolCalls, logger: Logger(label: "t"))
        try await wrapped.connect()
        try await client.connect()
        let stream = await wrapped.receive()
        try await client.send(Data(#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#.utf8))
        var iterator = stream.makeAsyncIterator()
        _ = try await iterator.next()
        #expect(inFlight.count == 1)
        try await wrapped.send(Data(#"{"id":5,"jsonrpc":"2.0","result":{}}"#.utf8))
        #expect(inFlight.count == 0)
    }
}

@Suite("instrumented transport under the SDK server")
struct InstrumentedServerTests {
    @Test("an SDK server over the wrapper keeps serving and counts requests")
    func server() async throws {
        let (client, serverSide) = await InMemoryTransport.createConnectedPair()
        let inFlight = InFlightRequests()
        let server = Server(name: "t", version: "1")
        try await server.start(
            transport: InstrumentedTransport(
                serverSide, sessionID: "t", inFlight: inFlight,
                directToolCalls: try await hostedSession().directToolCalls, logger: Logger(label: "t")))
        try await client.connect()
        let replies = await client.receive()
        var iterator = replies.makeAsyncIterator()
        for id in 1...3 {
            try await client.send(Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"ping"}"#.utf8))
            let reply = try #require(try await iterator.next())
            #expect(String(decoding: reply, as: UTF8.self).contains("\"id\":\(id)"))
        }
        #expect(inFlight.count == 0)
        await server.stop()
    }

    @Test("tools/call is answered by the one tools/call path, never by the SDK server (which has no handler for it)")
    func onePath() async throws {
        let hosted = try await hostedSession()
        let (client, serverSide) = await InMemoryTransport.createConnectedPair()
        try await hosted.server.start(
            transport: InstrumentedTransport(
                serverSide, sessionID: "t", inFlight: InFlightRequests(),
                directToolCalls: hosted.directToolCalls, logger: Logger(label: "t")))
        try await client.connect()
        var replies = await client.receive().makeAsyncIterator()
        try await client.send(Data(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#.utf8))
        _ = try await replies.next()
        // list_toolsets is a discovery tool of dynamic mode: only the runner knows it.
        try await client.send(Data(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_toolsets","arguments":{}}}"#.utf8))
        let reply = try JSONCoding.parse(String(decoding: try #require(try await replies.next()), as: UTF8.self))
        #expect(reply["id"] == 2)
        #expect(reply["error"] == nil, "\(reply)")
        #expect(reply["result"]?["structuredContent"] != nil)
        // A malformed call gets the runner's own message, not the SDK's "method not found".
        try await client.send(Data(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#.utf8))
        let bad = try JSONCoding.parse(String(decoding: try #require(try await replies.next()), as: UTF8.self))
        #expect(bad["error"]?["code"] == -32602)
        #expect(bad["error"]?["message"]?.stringValue?.contains("params.name") == true)
        await hosted.server.stop()
    }
}

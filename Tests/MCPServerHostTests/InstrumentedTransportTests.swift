import Foundation
import Logging
import MCP
@testable import MCPServerHost
import Testing

@Suite("instrumented transport")
struct InstrumentedTransportTests {
    @Test("response ids are recognised with and without the fast path")
    func responseIDs() {
        #expect(InstrumentedTransport.responseID(Data(#"{"id":1,"jsonrpc":"2.0","result":{}}"#.utf8))?.0 == InstrumentedTransport.key(1))
        #expect(InstrumentedTransport.responseID(Data(#"{"id":"a-1","jsonrpc":"2.0","result":{}}"#.utf8))?.0 == InstrumentedTransport.key("a-1"))
        #expect(InstrumentedTransport.responseID(Data(#"{"error":{"code":-1,"message":"x"},"id":7,"jsonrpc":"2.0"}"#.utf8))?.1 == false)
        #expect(InstrumentedTransport.responseID(Data(#"{"jsonrpc":"2.0","method":"notifications/progress"}"#.utf8)) == nil)
    }

    @Test("requests are counted from arrival to response; in-flight goes back to zero")
    func counts() async throws {
        let (client, server) = await InMemoryTransport.createConnectedPair()
        let inFlight = InFlightRequests()
        let wrapped = InstrumentedTransport(server, sessionID: "t", inFlight: inFlight, logger: Logger(label: "t"))
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
        try await server.start(transport: InstrumentedTransport(serverSide, sessionID: "t", inFlight: inFlight, logger: Logger(label: "t")))
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
}

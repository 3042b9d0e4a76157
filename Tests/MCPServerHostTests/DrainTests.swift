import Foundation
import Logging
import Testing

@testable import MCPServerHost

@Suite("drain and session admission")
struct DrainTests {
    @Test("drained(within:) is true at once when idle, false on timeout, true when the last request ends")
    func drained() async {
        let inFlight = InFlightRequests()
        #expect(await inFlight.drained(within: .seconds(5)))
        inFlight.started()
        #expect(await inFlight.drained(within: .milliseconds(20)) == false)
        async let waiting = inFlight.drained(within: .seconds(30))
        inFlight.finished()
        #expect(await waiting)
        #expect(inFlight.count == 0)
    }

    @Test("the registry refuses sessions beyond its limit and while draining")
    func admission() async {
        let registry = SessionRegistry(maxSessions: 0, idleTimeout: .seconds(1), logger: Logger(label: "t"))
        guard case .full(let limit) = await registry.refusal(kind: "http") else { Issue.record("expected full"); return }
        #expect(limit == 0)
        let open = SessionRegistry(maxSessions: 5, idleTimeout: .seconds(1), logger: Logger(label: "t"))
        let admitted = await open.refusal(kind: "http")
        #expect(admitted == nil)
        await open.startDraining()
        guard case .draining = await open.refusal(kind: "http") else { Issue.record("expected draining"); return }
    }
}

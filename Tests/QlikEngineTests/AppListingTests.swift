import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import QlikEngine
import Synchronization
import TestSupport
import Testing

/// App listing against loopback stand-ins for QRS and the Qlik Cloud items API.
@Suite("App listing", .serialized)
struct AppListingTests {
    let pki = TestCertificates.shared

    func withHTTPS<T: Sendable>(clientCertificate: Bool, router: Router<BasicRequestContext>, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let tls = try pki.serverTLS(requireClientCertificate: clientCertificate)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, server: try .tls(tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) },
            logger: Logger(label: "test.https") { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            defer { group.cancelAll() }
            return try await body(port)
        }
    }

    @Test("Enterprise: QRS /qrs/app/full with xrfkey header = query, X-Qlik-User, client certificate")
    func qrs() async throws {
        let seen = Mutex<[String: String]>([:])
        let router = Router()
        router.get("/qrs/app/full") { request, _ -> Response in
            let xrfQuery = request.uri.queryParameters.get("xrfkey") ?? ""
            let xrfHeader = request.headers[.init("X-Qlik-Xrfkey")!] ?? ""
            seen.withLock {
                $0["xrf-ok"] = String(xrfQuery.count == 16 && xrfQuery == xrfHeader)
                $0["user"] = request.headers[.init("X-Qlik-User")!] ?? ""
                $0["filter"] = request.uri.queryParameters.get("filter") ?? ""
            }
            let body =
                #"[{"id":"1f0c","name":"Sales 2026","description":"d","published":true,"stream":{"name":"Finance"},"lastReloadTime":"2026-06-30T22:05:12.000Z","owner":{"userDirectory":"CORP","userId":"owner1"}},{"id":"2a11","name":"Sales Europe","description":"","published":false}]"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await withHTTPS(clientCertificate: true, router: router) { port in
            let endpoint = try QIXEndpoint.enterprise(
                host: "localhost", port: 4747,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey, rootCA: pki.caCertificate),
                userDirectory: "CORP", userID: "svc_mcp")
            var lister = AppLister(endpoint: endpoint)
            lister.qrsPort = port
            let apps = try await lister.listApps(search: "sales")
            #expect(apps.map(\.id) == ["1f0c", "2a11"])
            #expect(apps[0].stream == "Finance" && apps[0].published && apps[0].owner == "CORP\\owner1")
            let recorded = seen.withLock { $0 }
            #expect(recorded["xrf-ok"] == "true")
            #expect(recorded["user"] == "UserDirectory=CORP; UserId=svc_mcp")
            #expect(recorded["filter"] == "name so 'sales'")
        }
    }

    @Test("Cloud: items API with bearer token, paging on the same host only, HTTP errors are clear")
    func cloud() async throws {
        let router = Router()
        router.get("/api/v1/items") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer key-1" else { return Response(status: .unauthorized) }
            #expect(request.uri.queryParameters.get("resourceType") == "app")
            let page = request.uri.queryParameters.get("page") ?? "1"
            let host = request.head.authority ?? ""
            let body: String
            if page == "1" {
                body =
                    #"{"data":[{"name":"Cloud A","resourceId":"a-1","spaceId":"s1","resourceAttributes":{"lastReloadTime":"2026-01-01T00:00:00Z"}}],"links":{"next":{"href":"https://\#(host)/api/v1/items?resourceType=app&page=2"}}}"#
            } else {
                body = #"{"data":[{"name":"Cloud B","resourceId":"b-2"}],"links":{"next":{"href":"https://evil.example/api/v1/items?page=3"}}}"#
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await withHTTPS(clientCertificate: false, router: router) { port in
            let endpoint = try QIXEndpoint.cloud(tenant: "localhost:\(port)", apiKey: "key-1", rootCA: pki.caCertificate)
            var lister = AppLister(endpoint: endpoint)
            lister.restBaseURL = "https://localhost:\(port)"
            let apps = try await lister.listApps()
            #expect(apps.map(\.id) == ["a-1", "b-2"])
            #expect(apps[0].lastReloadTime == "2026-01-01T00:00:00Z")
            var wrong = AppLister(endpoint: try QIXEndpoint.cloud(tenant: "localhost:\(port)", apiKey: "key-2", rootCA: pki.caCertificate))
            wrong.restBaseURL = "https://localhost:\(port)"
            await #expect { try await wrong.listApps() } throws: { error in
                if case .http(401, _, _) = error as? QIXClientError { return true }
                return false
            }
        }
    }

    @Test("Enterprise reload tasks and history: QRS reloadtask/executionresult, status codes normalised")
    func qrsReloads() async throws {
        let filters = Mutex<[String]>([])
        let router = Router()
        router.get("/qrs/reloadtask/full") { request, _ -> Response in
            filters.withLock { $0.append(request.uri.queryParameters.get("filter") ?? "") }
            let body =
                #"[{"id":"t1","name":"Nightly Sales","enabled":true,"app":{"id":"1f0c","name":"Sales"},"operational":{"nextExecution":"2026-12-01T22:00:00.000Z","lastExecutionResult":{"status":8,"startTime":"2026-11-24T22:00:00.000Z","stopTime":"2026-11-24T22:00:09.000Z"}}}]"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/qrs/executionresult/full") { request, _ -> Response in
            filters.withLock { $0.append(request.uri.queryParameters.get("filter") ?? "") }
            let body =
                #"[{"id":"e1","appID":"1f0c","status":7,"startTime":"2026-11-23T22:00:00.000Z","stopTime":"2026-11-23T22:00:30.000Z","duration":30000,"details":[{"message":"Reload finished"}]},{"id":"e2","appID":"1f0c","status":8,"startTime":"2026-11-24T22:00:00.000Z","stopTime":"2026-11-24T22:00:09.000Z","duration":9000,"details":[{"message":"Connection failed"}]}]"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await withHTTPS(clientCertificate: true, router: router) { port in
            let endpoint = try QIXEndpoint.enterprise(
                host: "localhost", port: 4747,
                certificates: .init(clientCertificate: pki.clientCertificate, clientKey: pki.clientKey, rootCA: pki.caCertificate),
                userDirectory: "CORP", userID: "svc_mcp")
            var source = try #require(QlikReloadSource(endpoint: endpoint))
            source.qrsPort = port
            let tasks = try await source.reloadTasks(appID: "1f0c")
            #expect(
                tasks == [
                    ReloadTaskSummary(
                        id: "t1", name: "Nightly Sales", appID: "1f0c", enabled: true, schedule: "next run 2026-12-01T22:00:00.000Z",
                        lastStatus: "FAILED", lastStart: "2026-11-24T22:00:00.000Z", lastEnd: "2026-11-24T22:00:09.000Z")
                ])
            let history = try await source.reloadHistory(appID: "1f0c", limit: 10)
            #expect(history.map(\.id) == ["e2", "e1"])
            #expect(history.map(\.status) == ["FAILED", "SUCCEEDED"] && history[0].durationSeconds == 9 && history[0].log == "Connection failed")
            #expect(try await source.reloadHistory(appID: "1f0c", limit: 1).count == 1)
            #expect(filters.withLock { $0 }.first == "app.id eq 1f0c")
        }
        #expect(QlikReloadSource(endpoint: .desktop(host: "127.0.0.1", port: 4848)) == nil)
    }

    @Test("Cloud reload tasks and history: reload-tasks and reloads APIs with the API key")
    func cloudReloads() async throws {
        let router = Router()
        router.get("/api/v1/reloads") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer key-1" else { return Response(status: .unauthorized) }
            #expect(request.uri.queryParameters.get("appId") == "a-1")
            let body =
                #"{"data":[{"id":"rl-2","appId":"a-1","status":"RELOADING","startTime":"2026-11-25T10:00:00Z"},{"id":"rl-1","appId":"a-1","status":"SUCCEEDED","startTime":"2026-11-24T10:00:00Z","endTime":"2026-11-24T10:01:00Z","duration":60000,"log":"ok"}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/api/v1/reload-tasks") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer key-1" else { return Response(status: .unauthorized) }
            let body = #"{"data":[{"id":"rt-1","appId":"a-1","state":"Disabled","recurrence":["RRULE:FREQ=DAILY;BYHOUR=6"]}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await withHTTPS(clientCertificate: false, router: router) { port in
            var source = try #require(QlikReloadSource(endpoint: try QIXEndpoint.cloud(tenant: "localhost:\(port)", apiKey: "key-1", rootCA: pki.caCertificate)))
            source.restBaseURL = "https://localhost:\(port)"
            let history = try await source.reloadHistory(appID: "a-1", limit: 5)
            #expect(history.map(\.status) == ["RUNNING", "SUCCEEDED"] && history[1].durationSeconds == 60 && history[1].log == "ok")
            let tasks = try await source.reloadTasks(appID: "a-1")
            #expect(tasks.count == 1 && tasks[0].enabled == false && tasks[0].schedule == "RRULE:FREQ=DAILY;BYHOUR=6")
        }
    }

    @Test("Desktop / demo engine: GetDocList")
    func desktop() async throws {
        let apps = try await AppLister(endpoint: await DemoEngineFixture.endpoint()).listApps(search: "hr")
        #expect(apps.map(\.id) == ["hr-insights"])
        #expect(apps.first?.stream == "Human Resources")
    }
}

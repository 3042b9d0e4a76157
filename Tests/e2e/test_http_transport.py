"""The Streamable HTTP transport at the HTTP level: status codes for bad input, Origin/Host checks,
session limits and expiry, resumability with Last-Event-ID, probes while draining, and SIGTERM with
100 calls in flight (every call answered, exit 0, spans flushed to an OTLP receiver)."""
import http.client
import subprocess
import json
import threading
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from mcp_server import Server
from test_otlp_export_python import Receiver

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def request(server, method, path="/mcp", body=None, headers=None, raw=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    connection.request(method, path, body=data, headers={**HEADERS, **(headers or {})})
    response = connection.getresponse()
    payload = response.read().decode()
    connection.close()
    return response.status, dict(response.getheaders()), payload


def initialize(server, headers=None):
    status, response_headers, body = request(server, "POST", body=INIT, headers=headers)
    assert status == 200, body
    session = response_headers["Mcp-Session-Id"]
    request(server, "POST", body={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers={"Mcp-Session-Id": session})
    return session


def call(server, session, id, name, arguments):
    status, _, body = request(server, "POST", body={"jsonrpc": "2.0", "id": id, "method": "tools/call",
                                                     "params": {"name": name, "arguments": arguments}},
                              headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"})
    return status, json.loads(body) if body else None


def test_bad_input_gets_the_documented_status(qlik_mcp_bin):
    with Server(qlik_mcp_bin, "--max-body-bytes", "2048") as server:
        session = initialize(server)
        sid = {"Mcp-Session-Id": session}
        cases = [
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}), 400, "Mcp-Session-Id"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers={"Mcp-Session-Id": "nope"}), 404, "session"),
            (request(server, "POST", raw=b"{not json", headers=sid), 400, "Parse error"),
            (request(server, "POST", body=[{"jsonrpc": "2.0", "id": 2, "method": "ping"}], headers=sid), 400, "batches"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**sid, "Content-Type": "text/plain"}), 415, "Content-Type"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**sid, "Accept": "application/json"}), 406, "event-stream"),
            (request(server, "POST", raw=b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":"' + b"a" * 4096 + b'"}}', headers=sid), 413, ""),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**sid, "MCP-Protocol-Version": "1999-01-01"}), 400, "protocol version"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**sid, "Origin": "http://evil.example"}), 403, "Origin"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={**sid, "Host": "evil.example:80"}), 421, "Host"),
            (request(server, "PUT", body={}, headers=sid), 405, "Method Not Allowed"),
            (request(server, "GET", headers={"Accept": "text/event-stream"}), 400, "Mcp-Session-Id"),
            (request(server, "POST", body={"jsonrpc": "1.0", "id": 2, "method": "ping"}, headers=sid), 400, "JSON-RPC 2.0"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2}, headers=sid), 400, "needs a"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": 7}, headers=sid), 400, "must be a non-empty string"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}, headers=sid), 400, "string or an integer"),
            (request(server, "POST", body={"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, headers=sid), 400, "string or an integer"),
        ]
        for (status, headers, body), expected, text in cases:
            assert status == expected, (expected, status, body)
            assert text.lower() in body.lower(), (text, body)
        assert request(server, "PUT", body={}, headers=sid)[1].get("Allow") == "GET, POST, DELETE"
        status, answer = call(server, session, 3, "get_app", {"app_id": 42})
        assert status == 200 and answer["error"]["code"] == -32602 and "app_id" in answer["error"]["message"]
        status, answer = call(server, session, 4, "no_such_tool", {})
        assert answer["error"]["code"] == -32602 and "no_such_tool" in answer["error"]["message"]
        # The session still works after all that, and DELETE ends it.
        assert call(server, session, 5, "list_apps", {})[1]["result"]["isError"] is False
        assert request(server, "DELETE", headers=sid)[0] == 200
        assert call(server, session, 6, "list_apps", {})[0] == 404
        assert server.stop() == 0


def test_session_limit_and_idle_expiry(qlik_mcp_bin):
    with Server(qlik_mcp_bin, "--max-sessions", "2", "--session-idle-timeout", "1") as server:
        first = initialize(server)
        initialize(server)
        status, headers, body = request(server, "POST", body=INIT)
        assert status == 503 and headers.get("Retry-After") == "30" and "maximum of 2 sessions" in body
        deadline = time.monotonic() + 30
        while server.metrics().get('qlik_mcp_sessions_expired_total{transport="http"}', 0) < 2:  # (a call would keep it alive)
            assert time.monotonic() < deadline, "idle sessions never expired"
            time.sleep(0.2)  # polling the counter
        assert call(server, first, 9, "list_apps", {})[0] == 404
        assert server.metrics()['qlik_mcp_sessions_active{transport="http"}'] == 0
        assert server.metrics()['qlik_mcp_sessions_rejected_total{transport="http",reason="limit"}'] == 1
        initialize(server)  # room again
        assert server.stop() == 0


def read_event(response):
    event = {}
    while True:
        line = response.readline().decode()
        if line in ("\n", "\r\n", ""):
            if event or line == "":
                return event
            continue
        key, _, value = line.rstrip("\r\n").partition(": ")
        event[key] = value


def test_resume_with_last_event_id_loses_nothing(qlik_mcp_bin):
    with Server(qlik_mcp_bin, "--dynamic-toolsets") as server:
        session = initialize(server)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session})
        stream = connection.getresponse()
        assert stream.status == 200 and stream.getheader("Content-Type") == "text/event-stream"
        priming = read_event(stream)
        last_id = priming["id"]
        connection.close()  # the client drops the stream
        status, answer = call(server, session, 2, "enable_toolset", {"toolset": "apps"})
        assert answer["result"]["structuredContent"]["newly_enabled"] is True
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/mcp", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session, "Last-Event-ID": last_id})
        resumed = connection.getresponse()
        assert resumed.status == 200
        events = [read_event(resumed), read_event(resumed)]
        messages = [json.loads(e["data"]) for e in events if e.get("data", "").strip()]
        assert [m["method"] for m in messages] == ["notifications/tools/list_changed"]
        connection.close()
        status, _, body = request(server, "GET", headers={"Accept": "text/event-stream", "Mcp-Session-Id": session, "Last-Event-ID": "get-99999"})
        assert status == 400 and "Last-Event-ID" in body
        assert server.stop() == 0


def test_sigterm_with_100_calls_in_flight(qlik_mcp_bin):
    with Receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}", "OTEL_SERVICE_NAME": "qlik-mcp-drain",
               "QLIK_MCP_DEMO_LATENCY_MS": "300"}
        with Server(qlik_mcp_bin, "--drain-timeout", "60", env=env) as server:
            sessions = [initialize(server) for _ in range(10)]
            results = [None] * 100

            def worker(index):
                results[index] = call(server, sessions[index % 10], 100 + index, "evaluate_expression",
                                      {"app_id": "sales-analytics", "expression": f"Count(OrderLineID) + {index}"})

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while sum(v for k, v in server.metrics().items() if k.startswith("http_server_active_requests")) < 101:
                assert time.monotonic() < deadline, "calls never all in flight"
                time.sleep(0.05)  # polling the gauge
            server.process.send_signal(15)
            deadline = time.monotonic() + 30
            while True:  # readiness fails at once while calls drain; liveness stays up
                status, body = server.get("/readyz")
                if status == 503:
                    assert json.loads(body)["status"] == "draining"
                    break
                assert time.monotonic() < deadline
            assert server.get("/livez")[0] == 200
            assert request(server, "POST", body=INIT)[0] == 503
            for thread in threads:
                thread.join(120)
            assert server.process.wait(timeout=120) == 0
        for index, (status, answer) in enumerate(results):
            assert status == 200, (index, status, answer)
            assert answer["result"]["structuredContent"].get("number") == 120000 + index, answer
        names = []
        for _, _, body in receiver.requests:
            export = ExportTraceServiceRequest()
            export.ParseFromString(body)
            names += [span.name for rs in export.resource_spans for ss in rs.scope_spans for span in ss.spans]
        assert names.count("tools/call evaluate_expression") == 100


def exported_spans(receiver):
    spans = []
    for _, _, body in receiver.requests:
        export = ExportTraceServiceRequest()
        export.ParseFromString(body)
        spans += [span for rs in export.resource_spans for ss in rs.scope_spans for span in ss.spans]
    return spans


def test_traceparent_from_header_and_meta_parents_the_tool_span(qlik_mcp_bin):
    header_trace, meta_trace = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"
    with Receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
        with Server(qlik_mcp_bin, env=env) as server:
            session = initialize(server)
            sid = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"}
            status, _, _ = request(server, "POST", body={"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                                                         "params": {"name": "list_apps", "arguments": {}}},
                                   headers={**sid, "traceparent": f"00-{header_trace}-00f067aa0ba902b7-01"})
            assert status == 200
            status, _, _ = request(server, "POST", body={"jsonrpc": "2.0", "id": "eight", "method": "tools/call",
                                                         "params": {"name": "get_app", "arguments": {"app_id": "hr-insights"},
                                                                    "_meta": {"traceparent": f"00-{meta_trace}-b7ad6b7169203331-01"}}},
                                   headers=sid)
            assert status == 200
            assert server.stop() == 0
        spans = exported_spans(receiver)
        by_trace = {span.trace_id.hex(): span for span in spans if span.name.startswith("tools/call ")}
        first, second = by_trace[header_trace], by_trace[meta_trace]
        # The header's context parents Hummingbird's HTTP server span, which parents the MCP span.
        http_span = next(s for s in spans if s.span_id == first.parent_span_id)
        assert first.name == "tools/call list_apps" and http_span.name == "/mcp" and http_span.parent_span_id.hex() == "00f067aa0ba902b7"
        assert second.name == "tools/call get_app" and second.parent_span_id.hex() == "b7ad6b7169203331"
        attributes = {a.key: a.value.string_value for a in second.attributes}
        assert attributes["gen_ai.tool.name"] == "get_app" and attributes["mcp.method.name"] == "tools/call"
        assert attributes["mcp.session.id"] == session and attributes["jsonrpc.request.id"] == "eight"
        assert attributes["mcp.protocol.version"] == "2025-06-18" and attributes["network.transport"] == "tcp"
        qix_children = [s for s in spans if s.trace_id.hex() == meta_trace and s.parent_span_id == second.span_id]
        assert qix_children and all(s.name.startswith("qix ") for s in qix_children)


def test_every_mcp_method_gets_one_server_span_under_its_http_span(qlik_mcp_bin):
    """OTel MCP conventions: one SERVER span per request, named `{mcp.method.name} {target}`, whose
    parent is the HTTP server span of the POST that carried it."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span
    requests = [
        ("tools/list", {}, "tools/list"),
        ("tools/call", {"name": "get_engine_info", "arguments": {}}, "tools/call get_engine_info"),
        ("tools/call", {"name": "no_such_tool", "arguments": {}}, "tools/call"),
        ("resources/list", {}, "resources/list"),
        ("resources/templates/list", {}, "resources/templates/list"),
        ("resources/read", {"uri": "qlik://apps"}, "resources/read"),
        ("prompts/list", {}, "prompts/list"),
        ("prompts/get", {"name": "explore_app", "arguments": {"app_id": "sales-analytics"}}, "prompts/get"),
        ("ping", {}, "ping"),
    ]
    with Receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
        with Server(qlik_mcp_bin, env=env) as server:
            session = initialize(server)
            sid = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"}
            for index, (method, params, _) in enumerate(requests):
                status, _, body = request(server, "POST", body={"jsonrpc": "2.0", "id": 100 + index, "method": method, "params": params}, headers=sid)
                assert status == 200, (method, body)
            assert server.stop() == 0
    spans = exported_spans(receiver)
    by_id = {span.span_id: span for span in spans}
    mcp_spans = [s for s in spans if any(a.key == "mcp.method.name" for a in s.attributes) and s.kind == Span.SPAN_KIND_SERVER]
    for index, (method, _, name) in enumerate(requests + [("initialize", {}, "initialize")]):
        request_id = str(100 + index) if method != "initialize" else "1"
        matching = [s for s in mcp_spans if {a.key: a.value.string_value for a in s.attributes}.get("jsonrpc.request.id") == request_id
                    and {a.key: a.value.string_value for a in s.attributes}["mcp.method.name"] == method]
        assert len(matching) == 1, (method, [s.name for s in matching])
        span = matching[0]
        assert span.name == name
        parent = by_id.get(span.parent_span_id)
        assert parent is not None and parent.kind == Span.SPAN_KIND_SERVER and parent.name == "/mcp", (method, parent and parent.name)
        assert {a.key: a.value.string_value for a in parent.attributes}["http.request.method"] == "POST"
        attributes = {a.key: a.value.string_value for a in span.attributes}
        assert attributes["mcp.session.id"] == session or method == "initialize"
        assert attributes["network.transport"] == "tcp"
    unknown = next(s for s in mcp_spans if s.name == "tools/call")
    assert {a.key: a.value.string_value for a in unknown.attributes}["error.type"] == "-32602"  # unknown tool: invalid params


def test_config_file_settings_apply_and_bad_files_fail_clearly(qlik_mcp_bin, tmp_path):
    good = tmp_path / "qlik-mcp.yaml"
    good.write_text("tools:\n  toolsets: [apps, governance]\n  read_only: true\nhttp:\n  max_sessions: 1\n")
    with Server(qlik_mcp_bin, "--config", str(good)) as server:
        session = initialize(server)
        _, _, body = request(server, "POST", body={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers={"Mcp-Session-Id": session})
        names = {tool["name"] for tool in json.loads(body)["result"]["tools"]}
        assert "list_apps" in names and "get_script" in names and "reload_app" not in names and "query_data" not in names
        assert request(server, "POST", body=INIT)[0] == 503  # max_sessions: 1
        assert server.stop() == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("transport: http\nhttp:\n  max_sessions: lots\n")
    result = subprocess.run([qlik_mcp_bin, "serve", "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{bad}:3:17: http.max_sessions must be a whole number" in result.stderr


def test_request_timeout_cancels_and_answers(qlik_mcp_bin):
    with Server(qlik_mcp_bin, "--request-timeout", "1", env={"QLIK_MCP_DEMO_LATENCY_MS": "1500"}) as server:
        session = initialize(server)
        status, answer = call(server, session, 2, "get_app", {"app_id": "sales-analytics"})
        assert status == 200 and answer["error"]["code"] == -32001 and "timed out" in answer["error"]["message"]
        assert server.stop() == 0


def test_probes_before_the_engine_is_reached(qlik_mcp_bin):
    import socket
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    process = subprocess.Popen([qlik_mcp_bin, "serve", "--engine", f"ws://127.0.0.1:{dead_port}", "--transport", "http", "--port", "0"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in process.stderr:
            if '"mcp server listening"' in line:
                port = int(json.loads(line)["server.port"])
                break
        assert port
        threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # keep the pipe drained
        server = type("S", (), {"port": port})
        def get(path):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        assert get("/livez")[0] == 200
        assert get("/startupz")[0] == 503
        status, body = get("/readyz")
        report = json.loads(body)
        assert status == 503 and report["dependencies"]["qlik_engine"]["up"] is False and report["status"] == "starting"
        assert request(server, "POST", body=INIT)[0] == 200  # MCP still answers; tools report engine_unavailable
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0


def test_debug_traces_only_when_enabled(qlik_mcp_bin):
    with Server(qlik_mcp_bin) as server:
        assert server.get("/debug/traces")[0] == 404
        server.stop()
    with Server(qlik_mcp_bin, "--debug-endpoints") as server:
        session = initialize(server)
        call(server, session, 2, "list_apps", {})
        deadline = time.monotonic() + 30
        while True:  # spans reach the ring buffer with the batch processor's next batch (≤ 5 s)
            status, body = server.get("/debug/traces")
            spans = json.loads(body)["spans"]
            tool = next((s for s in spans if s["name"] == "tools/call list_apps"), None)
            if tool:
                break
            assert time.monotonic() < deadline, "the span never reached /debug/traces"
            time.sleep(0.2)
        assert status == 200 and tool["attributes"]["gen_ai.tool.name"] == "list_apps"
        assert any(s.get("parent_span_id") == tool["span_id"] and s["name"].startswith("qix ") for s in spans)
        status, html = server.get("/debug/traces?format=html")
        assert status == 200 and "<html>" in html and "tools/call list_apps" in html
        assert server.stop() == 0


def test_cors_for_allowed_browser_origins_only(qlik_mcp_bin):
    with Server(qlik_mcp_bin) as server:
        good, evil = "http://localhost:6274", "http://evil.example"
        status, headers, _ = request(server, "OPTIONS", headers={"Origin": good, "Access-Control-Request-Method": "POST",
                                                                 "Access-Control-Request-Headers": "content-type, mcp-session-id"})
        assert status == 204 and headers["Access-Control-Allow-Origin"] == good
        assert "Mcp-Session-Id" in headers["Access-Control-Allow-Headers"] and "DELETE" in headers["Access-Control-Allow-Methods"]
        status, headers, _ = request(server, "POST", body=INIT, headers={"Origin": good})
        assert status == 200 and headers["Access-Control-Allow-Origin"] == good and "Mcp-Session-Id" in headers["Access-Control-Expose-Headers"]
        _, headers, _ = request(server, "OPTIONS", headers={"Origin": evil, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in headers
        status, headers, _ = request(server, "GET", path="/metrics", headers={"Origin": evil})
        assert "Access-Control-Allow-Origin" not in headers
        assert server.stop() == 0


def test_hostile_bodies_never_hang_or_crash(qlik_mcp_bin):
    import random
    rng = random.Random(7)
    bodies = [b"", b"null", b"[]", b"{}", b"1", b'"x"', b"{" * 600 + b"}" * 600, bytes(rng.getrandbits(8) for _ in range(500)),
              b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_app","arguments":"x"}}',
              b'{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"qlik://apps/../../etc/passwd"}}',
              b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":[]}',
              b'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"evaluate_expression","arguments":{"app_id":"sales-analytics","expression":"'
              + b"(" * 3000 + b'"}}}']
    for index in range(120):
        bodies.append(json.dumps({"jsonrpc": "2.0", "id": 100 + index,
                                  "method": rng.choice(["tools/call", "tools/list", "ping", "x/y", "initialize", "resources/read"]),
                                  "params": rng.choice([None, {}, [], {"name": rng.choice(["get_app", "query_data", "select_values", "nope"]),
                                                                       "arguments": {"app_id": rng.choice(["sales-analytics", "", "x" * 600, 5]),
                                                                                     "field": rng.choice(["Region", None, 1])}}])}).encode())
    with Server(qlik_mcp_bin, "--request-timeout", "20") as server:
        session = initialize(server)
        statuses = set()
        for body in bodies:
            status, _, _ = request(server, "POST", raw=body, headers={"Mcp-Session-Id": session})
            statuses.add(status)
        assert statuses <= {200, 202, 400}, statuses
        assert server.get("/livez")[0] == 200 and server.get("/readyz")[0] == 200
        assert call(server, session, 9999, "list_apps", {})[1]["result"]["isError"] is False
        assert server.stop() == 0

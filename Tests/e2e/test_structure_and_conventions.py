"""Structure and conventions, checked from outside: the module-direction check can fail, every
transport reaches the one `tools/call` path, and the metrics exposition is `promtool check metrics`
clean."""
import json
import queue
import shutil
import subprocess
import threading
import urllib.request
from pathlib import Path

from mcp_server import Server
from test_http_transport import request
from test_ops_bundle import promtool

ROOT = Path(__file__).resolve().parents[2]
# Only DirectToolCalls words its answer to a tools/call without a name like this; the SDK's
# Server has no tools/call handler and would answer "method not found".
ONE_PATH_ANSWER = "tools/call needs params.name"


def test_import_check_passes_here_and_fails_on_a_broken_direction(tmp_path):
    ok = subprocess.run([str(ROOT / "scripts" / "check-imports")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "repo"
    copy.mkdir()
    for part in ("Package.swift", "docs", "Sources"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / part)
    tool_file = next((copy / "Sources" / "QlikTools").rglob("*.swift"))
    tool_file.write_text("import MCPServerHost\n" + tool_file.read_text())
    broken = subprocess.run([str(ROOT / "scripts" / "check-imports"), str(copy)], capture_output=True, text=True)
    assert broken.returncode == 1
    assert "QlikTools imports MCPServerHost" in broken.stdout


def test_stdio_http_and_sse_reach_the_same_tools_call_path(qlik_mcp_bin):
    bad_call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {}}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    answers = {}

    # stdio
    process = subprocess.run([qlik_mcp_bin, "serve", "--demo", "--log-level", "error"], input="\n".join(
        json.dumps(m) for m in [init, {"jsonrpc": "2.0", "method": "notifications/initialized"}, bad_call]) + "\n",
        capture_output=True, text=True, timeout=120)
    replies = [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
    answers["stdio"] = next(r for r in replies if r.get("id") == 9)

    with Server(qlik_mcp_bin) as server:
        # Streamable HTTP
        status, headers, _ = request(server, "POST", body=init)
        session = headers["Mcp-Session-Id"]
        sid = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"}
        request(server, "POST", body={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=sid)
        _, _, body = request(server, "POST", body=bad_call, headers=sid)
        answers["http"] = json.loads(body)

        # legacy HTTP+SSE: the answer arrives on the event stream
        events = queue.Queue()

        def read_stream():
            with urllib.request.urlopen(urllib.request.Request(server.base + "/sse", headers={"Accept": "text/event-stream"}), timeout=60) as stream:
                for raw in stream:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("data: "):
                        events.put(line[6:])

        threading.Thread(target=read_stream, daemon=True).start()
        endpoint = events.get(timeout=30)
        for message in (init, {"jsonrpc": "2.0", "method": "notifications/initialized"}, bad_call):
            posted = urllib.request.Request(server.base + endpoint, data=json.dumps(message).encode(), method="POST",
                                            headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(posted, timeout=30) as response:
                assert response.status == 202
        while True:
            message = json.loads(events.get(timeout=30))
            if message.get("id") == 9:
                answers["sse"] = message
                break
        assert server.stop() == 0

    for transport, answer in answers.items():
        assert answer["error"]["code"] == -32602, (transport, answer)
        assert ONE_PATH_ANSWER in answer["error"]["message"], (transport, answer)


def test_metrics_exposition_is_promtool_clean(qlik_mcp_bin):
    with Server(qlik_mcp_bin, env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_LOGS_EXPORTER": "otlp"}) as server:
        status, headers, _ = request(server, "POST", body={"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                                           "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                                      "clientInfo": {"name": "t", "version": "1"}}})
        sid = {"Mcp-Session-Id": headers["Mcp-Session-Id"], "MCP-Protocol-Version": "2025-06-18"}
        for index, name in enumerate(["get_engine_info", "get_app", "no_such_tool"]):
            request(server, "POST", body={"jsonrpc": "2.0", "id": 10 + index, "method": "tools/call",
                                          "params": {"name": name, "arguments": {"app_id": "nope"} if name == "get_app" else {}}}, headers=sid)
        _, text = server.get("/metrics")
        assert server.stop() == 0
    assert "mcp_server_operation_duration_seconds_bucket" in text and "http_server_request_duration_seconds_bucket" in text
    check = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check.stdout + check.stderr

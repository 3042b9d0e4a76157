"""End to end: the real `qlik-mcp` binary exports a span to a Python OTLP receiver, and the body is
decoded with the official OpenTelemetry protobuf classes (a decoder nobody on this project wrote)."""
import gzip
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import SEVERITY_NUMBER_INFO
from opentelemetry.proto.trace.v1.trace_pb2 import Span


class Receiver:
    def __init__(self):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run_selftest(binary, port, extra_env=None):
    env = {"PATH": "/usr/bin:/bin", "OTEL_SERVICE_NAME": "qlik-mcp-e2e",
           "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e"}
    env.update(extra_env or {})
    return subprocess.run(
        [binary, "telemetry", "selftest", "--otlp-endpoint", f"http://127.0.0.1:{port}", "--timeout", "20"],
        env=env, capture_output=True, text=True, timeout=60,
    )


def test_selftest_span_decodes_with_official_otlp_classes(qlik_mcp_bin):
    with Receiver() as receiver:
        result = run_selftest(qlik_mcp_bin, receiver.port)
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout
    assert len(receiver.requests) == 1
    path, headers, body = receiver.requests[0]
    assert path == "/v1/traces"
    assert headers["Content-Type"] == "application/x-protobuf"

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    assert len(request.resource_spans) == 1
    resource = {kv.key: kv.value.string_value for kv in request.resource_spans[0].resource.attributes}
    assert resource["service.name"] == "qlik-mcp-e2e"
    assert resource["deployment.environment"] == "e2e"
    assert resource["process.pid"].isdigit()
    assert resource["service.instance.id"]
    assert resource["host.name"]

    spans = request.resource_spans[0].scope_spans[0].spans
    assert [s.name for s in spans] == ["telemetry selftest"]
    span = spans[0]
    assert span.kind == Span.SPAN_KIND_INTERNAL
    assert len(span.trace_id) == 16 and len(span.span_id) == 8
    assert span.end_time_unix_nano >= span.start_time_unix_nano > 0
    attributes = {kv.key: kv.value for kv in span.attributes}
    assert attributes["qlik_mcp.selftest"].bool_value is True
    assert attributes["user.email"].string_value == "[REDACTED:email]"
    assert b"canary@example.com" not in body
    assert [e.name for e in span.events] == ["selftest.event"]

    # The ids printed by the command and the ids in the log line match the exported span.
    assert f"trace_id={span.trace_id.hex()}" in result.stdout
    assert f"span_id={span.span_id.hex()}" in result.stdout
    log_lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    selftest_lines = [line for line in log_lines if line["otel.scope.name"] == "qlik-mcp.selftest"]
    assert len(selftest_lines) == 1
    assert selftest_lines[0]["trace_id"] == span.trace_id.hex()
    assert selftest_lines[0]["span_id"] == span.span_id.hex()
    assert selftest_lines[0]["contact"] == "[REDACTED:email]"


def test_logs_and_gzip_decode_with_official_otlp_classes(qlik_mcp_bin):
    """OTEL_LOGS_EXPORTER=otlp sends the log line to /v1/logs; with OTEL_EXPORTER_OTLP_COMPRESSION=gzip
    both signals arrive gzip-compressed (Content-Encoding: gzip) and decode after gunzip."""
    with Receiver() as receiver:
        result = run_selftest(qlik_mcp_bin, receiver.port, {"OTEL_LOGS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"})
    assert result.returncode == 0, result.stderr
    by_path = {path: (headers, body) for path, headers, body in receiver.requests}
    assert set(by_path) == {"/v1/traces", "/v1/logs"}, list(by_path)
    for path, (headers, body) in by_path.items():
        assert headers["Content-Encoding"] == "gzip", path
        assert body[:2] == b"\x1f\x8b", path
    traces = ExportTraceServiceRequest()
    traces.ParseFromString(gzip.decompress(by_path["/v1/traces"][1]))
    span = traces.resource_spans[0].scope_spans[0].spans[0]
    logs = ExportLogsServiceRequest()
    logs.ParseFromString(gzip.decompress(by_path["/v1/logs"][1]))
    resource = {kv.key: kv.value.string_value for kv in logs.resource_logs[0].resource.attributes}
    assert resource["service.name"] == "qlik-mcp-e2e"
    scopes = {scope.scope.name: scope for scope in logs.resource_logs[0].scope_logs}
    records = list(scopes["qlik-mcp.selftest"].log_records)
    assert len(records) == 1
    record = records[0]
    assert record.body.string_value == "telemetry self-test"
    assert record.severity_number == SEVERITY_NUMBER_INFO and record.severity_text == "INFO"
    assert record.trace_id == span.trace_id and record.span_id == span.span_id
    assert record.time_unix_nano > 0
    attributes = {kv.key: kv.value for kv in record.attributes}
    assert attributes["contact"].string_value == "[REDACTED:email]"
    assert attributes["qlik_mcp.outcome"].string_value == "ok"
    assert b"canary@example.com" not in gzip.decompress(by_path["/v1/logs"][1])


def test_selftest_reports_a_dead_collector(qlik_mcp_bin):
    with Receiver() as receiver:
        port = receiver.port
    # The receiver is closed: nothing listens on the port any more.
    result = run_selftest(qlik_mcp_bin, port, {"OTEL_BSP_EXPORT_TIMEOUT": "2000"})
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    warnings = [json.loads(line) for line in result.stderr.splitlines() if '"span export failed"' in line]
    assert len(warnings) == 1
    assert warnings[0]["error.type"] == "connection"


def test_bad_configuration_is_a_clear_error(qlik_mcp_bin):
    result = subprocess.run(
        [qlik_mcp_bin, "telemetry", "selftest"],
        env={"OTEL_TRACES_SAMPLER": "sometimes"}, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode != 0
    assert "OTEL_TRACES_SAMPLER='sometimes' is not valid" in result.stderr
    assert "parentbased_always_on" in result.stderr

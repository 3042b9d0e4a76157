"""The log line schema (README "Logs"), checked over every line the end-to-end servers write.

Every line: one JSON object; `timestamp` (RFC 3339, ms, UTC), `severity_text`/`severity_number`
(OpenTelemetry), `body`, `otel.scope.name`, `service.name`/`service.version`/`service.instance.id`;
`trace_id` (32 hex) and `span_id` (16 hex) only when a span is active; no `null` anywhere; numbers
and booleans typed; no Swift debug text; none of the old keys; a failed tool call names its error.
"""
import json
import re

SEVERITY = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "NOTICE": 10, "WARNING": 13, "ERROR": 17, "CRITICAL": 21}
REQUIRED = ["timestamp", "severity_text", "severity_number", "body", "otel.scope.name",
            "service.name", "service.version", "service.instance.id"]
OLD_KEYS = {"ts", "level", "msg", "logger", "session_id", "tool", "correlation_id", "duration_ms", "source", "outcome", "port"}
NUMERIC = re.compile(r"(\.port|duration_ms|\.number|in_flight|_s|\.keys|\.tools|\.spans|suppressed_before|\.after_messages|max_connections)$")
BOOLEAN = {"qlik_mcp.error.retryable", "qlik_mcp.telemetry.flushed", "qlik_mcp.dynamic_toolsets"}
SWIFT_DESCRIPTION = re.compile(r"^[A-Z][A-Za-z]+\((?:[a-zA-Z]+: .*)\)$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _no_nulls(value, path):
    if value is None:
        return [f"{path} is null"]
    if isinstance(value, dict):
        return [problem for key, item in value.items() for problem in _no_nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [problem for index, item in enumerate(value) for problem in _no_nulls(item, f"{path}[{index}]")]
    return []


def problems(line):
    """What is wrong with one log line ([] when nothing)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return [f"not JSON: {line[:120]!r}"]
    if not isinstance(record, dict):
        return ["not a JSON object"]
    found = [f"missing {key}" for key in REQUIRED if key not in record]
    found += _no_nulls(record, "line")
    found += [f"old key {key}" for key in OLD_KEYS & record.keys()]
    if not TIMESTAMP.match(str(record.get("timestamp", ""))):
        found.append(f"timestamp {record.get('timestamp')!r}")
    if SEVERITY.get(record.get("severity_text")) != record.get("severity_number"):
        found.append(f"severity {record.get('severity_text')}/{record.get('severity_number')}")
    if "trace_id" in record and not re.fullmatch(r"[0-9a-f]{32}", str(record["trace_id"])):
        found.append(f"trace_id {record['trace_id']!r}")
    if "span_id" in record and not re.fullmatch(r"[0-9a-f]{16}", str(record["span_id"])):
        found.append(f"span_id {record['span_id']!r}")
    if line.count('"span_id":') > 1 or line.count('"trace_id":') > 1:
        found.append("a key appears twice")
    for key, value in record.items():
        if NUMERIC.search(key) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            found.append(f"{key} should be a number: {value!r}")
        if key in BOOLEAN and not isinstance(value, bool):
            found.append(f"{key} should be a boolean: {value!r}")
        if isinstance(value, str) and SWIFT_DESCRIPTION.match(value):
            found.append(f"{key} is Swift debug text: {value!r}")
    if record.get("body") == "tool call" and record.get("qlik_mcp.outcome") == "error":
        found += [f"failed tool call without {key}" for key in ("error.type", "qlik_mcp.error.code", "qlik_mcp.error.category") if key not in record]
    if record.get("severity_number", 0) >= 17:
        found += [f"error line without {key}" for key in ("code.file.path", "code.line.number") if key not in record]
    return found


# Every line written by a server the end-to-end tests started (mcp_server.Server, demo_engine).
COLLECTED = []


def collect(source, line):
    if line.strip():
        COLLECTED.append((source, line.rstrip("\n")))

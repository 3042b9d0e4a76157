"""Writes the benchmark targets of Benchmarks/scale/run for one Redis URL (argv[1]): qlik-mcp with
--state redis, and 1 and 3 replicas behind HAProxy (Benchmarks/scale/replicas)."""
import json
import sys
from pathlib import Path

url = sys.argv[1]
replicas = str(Path(__file__).resolve().parent / "replicas")
TOOLS = {
    "trivial": {"name": "get_engine_info", "arguments": {}, "expect": "engine_version"},
    "metadata": {"name": "list_measures", "arguments": {"app_id": "sales-analytics"}, "expect": "Sum(Sales)"},
}
server = ["{qlik-mcp}", "serve", "--transport", "http", "--port", "{port}", "--engine", "ws://127.0.0.1:{engine_port}",
          "--max-sessions", "20000", "--log-level", "info"]
targets = [
    {"name": "qlik-mcp --state redis", "transport": "http", "command": server + ["--state", "redis", "--redis-url", url],
     "env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "{otlp}", "OTEL_TRACES_SAMPLER": "always_on"},
     "url": "http://127.0.0.1:{port}/mcp", "tools": TOOLS,
     "note": "the same server and telemetry as the first row, with sessions, event logs and the bus in a local redis-server"},
    {"name": "qlik-mcp --state redis (telemetry off)", "transport": "http",
     "command": server[:-2] + ["--log-level", "error", "--state", "redis", "--redis-url", url],
     "env": {"OTEL_SDK_DISABLED": "true"}, "url": "http://127.0.0.1:{port}/mcp", "tools": TOOLS,
     "note": "compare with qlik-mcp (telemetry off): the cost of Redis alone, without its spans"},
]
for count in (1, 3):
    targets.append({
        "name": f"{count} replica{'s' if count > 1 else ''} (redis) behind HAProxy", "transport": "http",
        "command": [replicas, str(count), "{qlik-mcp}", "{port}", "{engine_port}", url],
        "url": "http://127.0.0.1:{port}/mcp", "tools": TOOLS,
        "note": "logs at error, no span export; CPU and RSS columns are the launcher script's, not the replicas'"})
print(json.dumps({"targets": targets}, indent=2))

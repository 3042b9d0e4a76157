"""Opens N idle Streamable HTTP sessions on one `serve --state redis` replica and reports what
they cost in Redis (INFO memory used_memory) and in the replica (VmRSS). Usage:
idle_sessions.py QLIK_MCP REDIS_URL N"""
import http.client
import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

binary, url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
redis_port = int(re.search(r":(\d+)/", url).group(1))
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                   "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "idle", "version": "1"}}}).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def redis_memory():
    info = subprocess.run(["redis-cli", "-p", str(redis_port), "info", "memory"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"used_memory:(\d+)", info).group(1))


def rss(pid):
    return int(re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read()).group(1)) * 1024


with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = subprocess.Popen([binary, "serve", "--demo", "--transport", "http", "--port", str(port), "--state", "redis", "--redis-url", url,
                           "--max-sessions", str(count + 10), "--log-level", "error"], stderr=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)  # polling a probe
    before_redis, before_rss = redis_memory(), rss(server.pid)

    def open_one(_):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/mcp", body=INIT, headers=HEADERS)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status

    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(open_one, range(count)))
    elapsed = time.monotonic() - started
    assert statuses.count(200) == count, {s: statuses.count(s) for s in set(statuses)}
    after_redis, after_rss = redis_memory(), rss(server.pid)
    keys = int(subprocess.run(["redis-cli", "-p", str(redis_port), "dbsize"], capture_output=True, text=True).stdout.strip())
    print(f"| idle sessions | {count:,} (opened in {elapsed:.1f} s, {count / elapsed:,.0f}/s) |")
    print(f"| Redis memory per session | {(after_redis - before_redis) / count:,.0f} bytes ({keys:,} keys) |")
    print(f"| replica RSS per session | {(after_rss - before_rss) / count:,.0f} bytes |")
finally:
    server.terminate()
    server.wait(timeout=60)

"""Rate limits and load shedding seen from outside: the real binary with API keys (two
principals), raw HTTP and the official SDK."""
import itertools
import json
from http.client import HTTPConnection
import re
import subprocess
import threading
import time

import anyio
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_server import Server
from oauth_support import http, open_session, call

SALES = {"app_id": "sales-analytics"}
IDS = itertools.count(100)  # request ids are unique per session (next() is atomic under the GIL)


def create_key(binary, path, name):
    out = subprocess.run([binary, "apikey", "create", "--apikeys-file", str(path), "--name", name, "--scopes", "qlik:read"],
                         check=True, capture_output=True, text=True).stdout
    return re.search(r"qmcp_[A-Za-z0-9_-]+", out).group(0)


def tool_error(body):
    """The structured error of a tools/call answer (JSON or one SSE event), or None."""
    text = body
    if "data:" in body:
        text = [line[5:] for line in body.splitlines() if line.startswith("data:")][-1]
    result = json.loads(text)["result"]
    return result["structuredContent"]["error"] if result.get("isError") else None


def test_one_principal_bursting_is_limited_another_is_not_and_retry_after_is_honoured(qlik_mcp_bin, tmp_path):
    keys = tmp_path / "apikeys.json"
    alice, bob = create_key(qlik_mcp_bin, keys, "alice"), create_key(qlik_mcp_bin, keys, "bob")
    from oauth_support import free_port
    port = free_port()
    with Server(qlik_mcp_bin, "--port", str(port), "--auth", "apikey", "--apikeys-file", str(keys), "--rate-limit-principal", "5/s",
                "--rate-limit-burst", "5") as server:
        sessions = {alice: open_session(server.base, alice), bob: open_session(server.base, bob)}
        outcomes = {alice: [], bob: []}
        lock = threading.Lock()
        start = time.monotonic()
        end = start + 3.0

        def flood(key, pause):
            while time.monotonic() < end:
                status, _, body = call(server.base, key, sessions[key], "list_apps", {}, id=next(IDS))
                assert status == 200, body
                error = tool_error(body)
                with lock:
                    outcomes[key].append((time.monotonic(), error))
                if pause:
                    time.sleep(pause)  # bob's own pace (well under the limit), not synchronisation

        threads = [threading.Thread(target=flood, args=(alice, 0)) for _ in range(8)] + [threading.Thread(target=flood, args=(bob, 0.5))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        admitted = [t for t, error in outcomes[alice] if error is None and t <= end]
        refused = [error for _, error in outcomes[alice] if error is not None]
        expected = 5 * 3 + 5
        assert abs(len(admitted) - expected) <= max(1, round(0.05 * expected)) + 1, (len(admitted), len(outcomes[alice]))
        assert refused and all(e["code"] == "rate_limited" and e["category"] == "rate_limited" and e["retryable"] and e["limit"] == "principal"
                               and 0 < e["retry_after_s"] <= 1 for e in refused), refused[:3]
        assert outcomes[bob] and all(error is None for _, error in outcomes[bob]), outcomes[bob]
        # Honour retry_after_s: exhaust the burst, wait as told, the next call is admitted.
        for _ in range(10):
            status, _, body = call(server.base, alice, sessions[alice], "list_apps", {}, id=next(IDS))
            error = tool_error(body)
            if error:
                break
        assert error is not None
        time.sleep(error["retry_after_s"])  # doing what the server said
        status, _, body = call(server.base, alice, sessions[alice], "list_apps", {}, id=next(IDS))
        assert tool_error(body) is None, body
        metrics = server.metrics()
        assert metrics['qlik_mcp_rate_limited_total{limit="principal",scope="principal"}'] >= len(refused)
        assert metrics["qlik_mcp_rate_limited_principals_total"] == 1  # alice only


def test_per_tool_limit_and_bad_limit_settings(qlik_mcp_bin):
    with Server(qlik_mcp_bin, "--rate-limit-tool", "reload_app=1/m") as server:
        async def main():
            async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    first = await session.call_tool("reload_app", SALES)
                    second = await session.call_tool("reload_app", SALES)
                    other = await session.call_tool("list_apps", {})
                    return first, second, other
        first, second, other = anyio.run(main)
        assert not first.is_error
        error = second.structured_content["error"]
        assert second.is_error and error["code"] == "rate_limited" and error["limit"] == "tool:reload_app" and 55 <= error["retry_after_s"] <= 60, error
        assert not other.is_error
    for args, expected in [
        (["--rate-limit-principal", "5/fortnight"], "the unit must be s, m, h or d"),
        (["--rate-limit-principal", "lots"], "is not a rate"),
        (["--rate-limit-tool", "no_such_tool=1/s"], "unknown tool 'no_such_tool'"),
        (["--rate-limit-burst", "5"], "--rate-limit-burst needs --rate-limit-principal"),
        (["--engine-concurrency", "max"], "--engine-concurrency must be adaptive or off"),
    ]:
        out = subprocess.run([qlik_mcp_bin, "serve", "--demo", *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode != 0 and expected in out.stderr, (args, out.stderr[-400:])


def test_oauth_registration_flood_from_one_ip_is_refused_another_ip_registers(qlik_mcp_bin, tmp_path, provider):
    from oauth_support import free_port
    key = tmp_path / "signing.pem"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)], check=True, capture_output=True)
    port = free_port()
    env = {"QLIK_MCP_OAUTH_CLIENT_ID": "up", "QLIK_MCP_OAUTH_CLIENT_SECRET": "up-secret"}
    with Server(qlik_mcp_bin, "--port", str(port), "--auth", "oauth", "--oauth-provider", "oidc", "--oauth-provider-url", provider.issuer,
                "--oauth-signing-key", str(key), "--rate-limit-ip", "6/m", "--rate-limit-ip-burst", "3", env=env) as server:
        registration = {"client_name": "flood", "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none",
                        "grant_types": ["authorization_code"], "response_types": ["code"]}
        statuses, last = [], None
        for _ in range(8):
            status, headers, body = http("POST", server.base + "/oauth/register", body=registration)
            statuses.append(status)
            last = (status, headers, body)
        assert statuses[:3] == [201, 201, 201] and set(statuses[3:]) == {429}, statuses
        status, headers, body = last
        assert int(headers["retry-after"]) >= 1
        assert headers["ratelimit-policy"] == '"ip";q=3;w=30' and headers["ratelimit"].startswith('"ip";r=0;t=')
        assert json.loads(body)["error"] == "rate_limited"
        # Another client address (127.0.0.2 is loopback too) is not affected.
        connection = HTTPConnection("127.0.0.1", server.port, timeout=15, source_address=("127.0.0.2", 0))
        connection.request("POST", "/oauth/register", body=json.dumps(registration), headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 201
        connection.close()
        assert server.metrics()['qlik_mcp_rate_limited_total{limit="ip",scope="ip"}'] >= 5


def test_three_replicas_behind_haproxy_admit_what_one_would(qlik_mcp_bin):
    """Round robin over three `--state redis` replicas: one principal's burst and rate are shared,
    not tripled."""
    from cluster import Cluster
    from test_scale_out import open_session as open_cluster_session, tool
    with Cluster(qlik_mcp_bin, replicas=3, extra_args=["--rate-limit-principal", "1/s", "--rate-limit-burst", "12"]) as cluster:
        port = cluster.haproxy.port
        session = open_cluster_session(port)
        before = cluster.tool_calls("list_apps")
        started = time.monotonic()
        admitted = refused = 0
        for index in range(60):
            status, _, body = tool(port, session, 10 + index, "list_apps", {})
            assert status == 200, body
            if body["result"].get("isError"):
                assert body["result"]["structuredContent"]["error"]["code"] == "rate_limited"
                refused += 1
            else:
                admitted += 1
        elapsed = time.monotonic() - started
        served = [after - was for after, was in zip(cluster.tool_calls("list_apps"), before)]
        # Every replica answered calls, yet together they admitted one burst plus one call per second.
        assert all(count >= 10 for count in served), served
        assert 12 <= admitted <= 12 + int(elapsed) + 1, (admitted, elapsed)
        assert refused == 60 - admitted

"""Scale out: three `--state redis` replicas behind HAProxy (round robin, no stickiness) on a real
redis-server, with the demo engine as its own process. The official Python MCP SDK uses the
cluster as one server; raw HTTP checks what the SDK does not show (which replica answered,
Last-Event-ID across replicas, Redis failures)."""
import http.client
import json
import signal
import subprocess
import threading
import time

import anyio
import pytest
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from cluster import Cluster, free_port, wait_until
from test_http_transport import HEADERS, INIT, read_event

PROTOCOL = {"MCP-Protocol-Version": "2025-06-18"}


def post(port, body, session=None, headers=None, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    extra = {**PROTOCOL, "Mcp-Session-Id": session} if session else {}
    connection.request("POST", "/mcp", body=json.dumps(body).encode(), headers={**HEADERS, **extra, **(headers or {})})
    response = connection.getresponse()
    payload = response.read().decode()
    connection.close()
    return response.status, response.headers, payload  # case-insensitive (HAProxy lowercases names)


def open_session(port):
    status, headers, body = post(port, INIT)
    assert status == 200, body
    session = headers["Mcp-Session-Id"]
    post(port, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    return session


def tool(port, session, id, name, arguments, **kwargs):
    status, headers, body = post(port, {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}, session, **kwargs)
    return status, headers, json.loads(body) if body.startswith("{") else body


@pytest.fixture(scope="module")
def cluster(qlik_mcp_bin):
    with Cluster(qlik_mcp_bin, replicas=3, extra_args=["--dynamic-toolsets", "--debug-endpoints"], engine_args=["--order-lines", "5000", "--latency-ms", "40"]) as started:
        yield started


def test_python_sdk_selection_follows_the_session_across_replicas(cluster):
    async def main():
        async with streamable_http_client(cluster.haproxy.base + "/mcp") as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.call_tool("enable_toolset", {"toolset": "analytics"})
                await session.call_tool("enable_toolset", {"toolset": "data_model"})
                names = {t.name for t in (await session.list_tools()).tools}
                assert {"select_values", "get_current_selections", "query_data"} <= names, names
                picked = await session.call_tool("select_values", {"app_id": "sales-analytics", "field": "Region", "values": ["Europe"]})
                assert not picked.is_error, picked
                seen = []
                for _ in range(6):
                    current = await session.call_tool("get_current_selections", {"app_id": "sales-analytics"})
                    seen.append(current.structured_content["selections"])
                    data = await session.call_tool("query_data", {"app_id": "sales-analytics", "dimensions": ["Region"], "measures": ["Sum(Sales)"]})
                    assert not data.is_error, data
                    assert "Europe" in str(data.content) and "North America" not in str(data.content), data.content
                return seen
    seen = anyio.run(main)
    assert all(s == [{"field": "Region", "selected_count": 1, "values": ["Europe"]}] for s in seen), seen
    served = cluster.tool_calls("get_current_selections")
    assert sum(served) == 6 and sum(1 for n in served if n) >= 2, served  # really answered by several replicas


def messages_posts(cluster):
    """POST /messages each replica received."""
    return [sum(v for k, v in replica.metrics().items() if k.startswith("http_server_request_duration_seconds_count") and 'http_route="/messages"' in k)
            for replica in cluster.replicas]


def test_legacy_sse_posts_to_other_replicas_reach_the_stream(cluster):
    before = sum(cluster.tool_calls("list_toolsets"))
    posts_before = messages_posts(cluster)
    async def main():
        async with sse_client(cluster.haproxy.base + "/sse") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                for _ in range(6):
                    listed = await session.call_tool("list_toolsets", {})
                    assert not listed.is_error, listed
    anyio.run(main)
    # The SSE stream stayed on one replica, which answered every call (the POSTs went round robin).
    served = cluster.tool_calls("list_toolsets")
    assert sum(served) - before == 6
    posts = [after - earlier for after, earlier in zip(messages_posts(cluster), posts_before)]
    assert sum(1 for n in posts if n) >= 2, posts  # the client's POSTs were spread over the replicas


def test_requests_of_one_session_land_on_every_replica(cluster):
    session = open_session(cluster.haproxy.port)
    served = set()
    for id in range(2, 8):
        status, headers, answer = tool(cluster.haproxy.port, session, id, "list_toolsets", {})
        assert status == 200 and "result" in answer, answer
        served.add(headers["X-Served-By"])
    assert served == {"r0", "r1", "r2"}
    # Another user's session id is not known to a fresh client on any replica; an unknown id is 404 everywhere.
    for replica in cluster.replicas:
        status, _, _ = tool(replica.port, "no-such-session", 9, "list_toolsets", {})
        assert status == 404


def test_progress_and_resume_with_last_event_id_on_another_replica(cluster):
    first, second = cluster.replicas[0], cluster.replicas[1]
    session = open_session(first.port)
    tool(first.port, session, 2, "enable_toolset", {"toolset": "governance"})
    connection = http.client.HTTPConnection("127.0.0.1", first.port, timeout=30)
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "reload_app", "arguments": {"app_id": "hr-insights"}, "_meta": {"progressToken": "p-1"}}}
    connection.request("POST", "/mcp", body=json.dumps(call).encode(), headers={**HEADERS, **PROTOCOL, "Mcp-Session-Id": session})
    stream = connection.getresponse()
    assert stream.status == 200 and stream.getheader("Content-Type") == "text/event-stream"
    priming = read_event(stream)
    progress = read_event(stream)
    assert json.loads(progress["data"])["method"] == "notifications/progress"
    connection.close()  # the stream breaks on the first replica; the call goes on there
    connection = http.client.HTTPConnection("127.0.0.1", second.port, timeout=30)
    connection.request("GET", "/mcp", headers={"Accept": "text/event-stream", **PROTOCOL, "Mcp-Session-Id": session, "Last-Event-ID": progress["id"]})
    resumed = connection.getresponse()
    assert resumed.status == 200, resumed.read()
    events = []
    while True:
        event = read_event(resumed)
        if not event:
            break
        if event.get("data", "").strip():
            events.append(event)
            if "result" in json.loads(event["data"]) or "error" in json.loads(event["data"]):
                break
    connection.close()
    messages = [json.loads(e["data"]) for e in events]
    assert messages and messages[-1]["id"] == 3 and messages[-1]["result"]["isError"] is False, messages
    steps = [json.loads(progress["data"])["params"]["progress"]] + [m["params"]["progress"] for m in messages[:-1]]
    assert steps == list(range(1, len(steps) + 1)), steps  # every progress step, once, in order
    ids = [int(e["id"].rpartition("-")[2]) for e in events]
    assert ids == sorted(set(ids)) and ids[0] > int(progress["id"].rpartition("-")[2])
    assert priming["id"].rpartition("-")[0] == progress["id"].rpartition("-")[0]


def test_server_messages_reach_the_stream_held_by_another_replica(cluster):
    holder, caller = cluster.replicas[2], cluster.replicas[0]
    session = open_session(caller.port)
    connection = http.client.HTTPConnection("127.0.0.1", holder.port, timeout=30)
    connection.request("GET", "/mcp", headers={"Accept": "text/event-stream", **PROTOCOL, "Mcp-Session-Id": session})
    stream = connection.getresponse()
    assert stream.status == 200
    read_event(stream)  # priming: the stream is carried by `holder` from here on
    status, _, answer = tool(caller.port, session, 2, "enable_toolset", {"toolset": "apps"})
    assert status == 200 and answer["result"]["structuredContent"]["newly_enabled"] is True
    event = read_event(stream)
    while not event.get("data", "").strip():
        event = read_event(stream)
    assert json.loads(event["data"])["method"] == "notifications/tools/list_changed"
    connection.close()
    # The toolset the call enabled on one replica is listed by the others.
    status, _, body = post(holder.port, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, session)
    assert "list_apps" in {t["name"] for t in json.loads(body)["result"]["tools"]}


def test_redis_round_trips_are_spans_under_the_request(cluster):
    replica = cluster.replicas[0]
    session = open_session(replica.port)
    assert tool(replica.port, session, 2, "list_toolsets", {})[0] == 200
    found = {}

    def touch_with_its_parent():  # the HTTP span ends just after the response is written: poll for it
        spans = json.loads(replica.get("/debug/traces")[1])["spans"]
        by_id = {span["span_id"]: span for span in spans}
        for span in spans:
            if span["name"] == "EVALSHA session_touch" and span.get("parent_span_id") in by_id:
                found.update(touch=span, parent=by_id[span["parent_span_id"]])
                return True
        return False

    wait_until(touch_with_its_parent, what="a session_touch span and its parent in /debug/traces")
    touch, parent = found["touch"], found["parent"]
    assert touch["kind"] == "client" and touch["attributes"]["db.system.name"] == "redis"
    assert touch["attributes"]["db.operation.name"] == "EVALSHA" and touch["attributes"]["db.stored_procedure.name"] == "session_touch"
    assert parent["trace_id"] == touch["trace_id"] and parent["kind"] == "server"  # the HTTP request that needed it
    assert int(touch["attributes"]["server.port"]) == cluster.redis.port


def test_delete_ends_the_session_on_every_replica(cluster):
    session = open_session(cluster.replicas[0].port)
    assert tool(cluster.replicas[1].port, session, 2, "list_toolsets", {})[0] == 200
    connection = http.client.HTTPConnection("127.0.0.1", cluster.replicas[2].port, timeout=10)
    connection.request("DELETE", "/mcp", headers={**PROTOCOL, "Mcp-Session-Id": session})
    assert connection.getresponse().status == 200
    for replica in cluster.replicas:
        assert tool(replica.port, session, 3, "list_toolsets", {})[0] == 404


def test_cluster_wide_session_limit(qlik_mcp_bin):
    with Cluster(qlik_mcp_bin, replicas=2, extra_args=["--max-sessions", "3"]) as small:
        ports = [replica.port for replica in small.replicas]
        sessions = [open_session(ports[i % 2]) for i in range(3)]
        status, headers, body = post(ports[1], INIT)
        assert status == 503 and "Retry-After" in headers and "maximum of 3 sessions" in body
        connection = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
        connection.request("DELETE", "/mcp", headers={**PROTOCOL, "Mcp-Session-Id": sessions[0]})
        assert connection.getresponse().status == 200
        assert post(ports[1], INIT)[0] == 200
        # A session held by one replica and deleted through another: the holder answers 404 at once
        # (its record is checked while the call runs, and the call's answer is discarded).
        assert tool(ports[1], sessions[1], 2, "list_apps", {})[0] == 200
        connection = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
        connection.request("DELETE", "/mcp", headers={**PROTOCOL, "Mcp-Session-Id": sessions[1]})
        assert connection.getresponse().status == 200
        status, _, body = tool(ports[1], sessions[1], 3, "list_apps", {})
        assert status == 404 and "unknown or expired session" in str(body)


def test_kill_9_one_replica_and_the_session_continues(qlik_mcp_bin):
    with Cluster(qlik_mcp_bin, replicas=3, extra_args=["--dynamic-toolsets"]) as doomed:
        async def main():
            async with streamable_http_client(doomed.haproxy.base + "/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for toolset in ("analytics", "data_model"):
                        await session.call_tool("enable_toolset", {"toolset": toolset})
                    picked = await session.call_tool("select_values", {"app_id": "sales-analytics", "field": "Region", "values": ["Europe"]})
                    assert not picked.is_error, picked
                    victim = doomed.replicas[1]
                    victim.process.send_signal(signal.SIGKILL)
                    victim.process.wait()
                    results = []
                    for _ in range(6):
                        current = await session.call_tool("get_current_selections", {"app_id": "sales-analytics"})
                        assert not current.is_error, current
                        results.append(current.structured_content["selections"][0]["values"])
                    return results
        results = anyio.run(main)
        assert results == [["Europe"]] * 6
        served = doomed.tool_calls("get_current_selections")
        assert served[1] == 0 and sum(served) == 6


def balanced_to(port, server):
    """True when HAProxy sent this probe request to `server` (it is in the rotation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/livez")
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheader("X-Served-By") == server


def test_rolling_restart_loses_no_call(qlik_mcp_bin):
    with Cluster(qlik_mcp_bin, replicas=2) as rolling:
        session = open_session(rolling.haproxy.port)
        failures, answered = [], []
        stop = threading.Event()

        def caller(first_id):
            id = first_id
            while not stop.is_set():
                id += 1
                status, _, answer = tool(rolling.haproxy.port, session, id, "list_apps", {})
                (answered if status == 200 and "result" in answer else failures).append((status, str(answer)[:200]))

        workers = [threading.Thread(target=caller, args=(100_000 * (n + 1),)) for n in range(4)]  # four calls in flight at all times
        for worker in workers:
            worker.start()
        try:
            for index in range(2):  # replace each replica in turn: SIGTERM drains it, the other takes its requests
                wait_until(lambda: len(answered) >= 5 * (index + 1), what="calls before the restart")
                assert rolling.replicas[index].stop() == 0
                rolling.replicas[index] = rolling.start_replica(index)
                # As a rolling update waits for the new pod to be in the Service: until HAProxy sends it requests.
                wait_until(lambda: balanced_to(rolling.haproxy.port, f"r{index}"), what="HAProxy to send requests to the new replica")
        finally:
            stop.set()
            for worker in workers:
                worker.join(60)
        assert not failures, failures[:5]
        assert len(answered) >= 10


def test_redis_killed_and_restarted(qlik_mcp_bin):
    with Cluster(qlik_mcp_bin, replicas=2) as fragile:
        replica = fragile.replicas[0]
        session = open_session(replica.port)
        assert tool(replica.port, session, 2, "list_apps", {})[0] == 200
        fragile.redis.kill()
        started = time.monotonic()
        status, headers, body = tool(replica.port, session, 3, "list_apps", {})
        elapsed = time.monotonic() - started
        assert status == 503 and int(headers["Retry-After"]) >= 1 and "Redis" in str(body), (status, body)
        assert elapsed < 5, elapsed  # a clear error, bounded in time: no hang
        status, _, body = post(replica.port, INIT)
        assert status == 503
        wait_until(lambda: replica.get("/readyz")[0] == 503, what="readiness to fail while Redis is down")
        assert '"redis"' in replica.get("/readyz")[1]
        fragile.redis.start()  # same port, same append-only file
        wait_until(lambda: replica.get("/readyz")[0] == 200, what="readiness to recover")
        wait_until(lambda: tool(replica.port, session, 4, "list_apps", {})[0] == 200, timeout=15, what="the session to work again")
        # The session survived the outage, on every replica.
        assert tool(fragile.replicas[1].port, session, 5, "list_apps", {})[0] == 200
        metrics = replica.metrics()
        failed = [name for name in metrics if name.startswith("qlik_mcp_redis_commands_total") and 'outcome="ok"' not in name]
        assert failed, [n for n in metrics if "redis" in n]  # the outage is visible in the metrics
        assert replica.process.poll() is None and fragile.replicas[1].process.poll() is None


def test_oauth_proxy_flow_across_replicas(qlik_mcp_bin, provider, tmp_path):
    """DCR, PKCE, consent, upstream sign-in, token and refresh, each step wherever round robin sends
    it; a code replayed and a refresh token reused on other replicas are refused."""
    import secrets
    from oauth_support import Browser, http, mcp
    from test_oauth_proxy import pkce
    from urllib.parse import urlencode
    key = tmp_path / "signing.pem"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)], check=True, capture_output=True)
    front = free_port()
    upstream_secret = "upstream-" + secrets.token_hex(8)
    provider.register("qlik-mcp-cluster", upstream_secret, f"http://127.0.0.1:{front}/oauth/callback")
    env = {"QLIK_MCP_OAUTH_CLIENT_ID": "qlik-mcp-cluster", "QLIK_MCP_OAUTH_CLIENT_SECRET": upstream_secret}
    args = ["--auth", "oauth", "--oauth-provider", "oidc", "--oauth-provider-url", provider.issuer, "--oauth-default-scopes", "qlik:read",
            "--oauth-signing-key", str(key), "--public-url", f"http://127.0.0.1:{front}",
            "--rate-limit-ip", "off"]  # every request comes from HAProxy's address (limits per IP: test_limits.py)
    with Cluster(qlik_mcp_bin, replicas=3, extra_args=args, env=env, haproxy_port=front) as secured:
        issuer, resource = f"http://127.0.0.1:{front}/oauth", f"http://127.0.0.1:{front}/mcp"
        redirect_uri = f"http://127.0.0.1:{free_port()}/cb"
        status, headers, body = http("POST", issuer + "/register", body={"redirect_uris": [redirect_uri], "client_name": "cluster client"})
        assert status == 201, body
        served = {headers["x-served-by"]}
        client_id = json.loads(body)["client_id"]
        verifier, challenge = pkce()
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "s-9", "code_challenge": challenge,
                 "code_challenge_method": "S256", "scope": "qlik:read", "resource": resource}
        answer = Browser().approve(issuer + "/authorize?" + urlencode(query), redirect_uri)
        assert answer["state"] == "s-9", answer
        token_form = {"grant_type": "authorization_code", "code": answer["code"], "code_verifier": verifier, "redirect_uri": redirect_uri,
                      "client_id": client_id, "resource": resource}
        status, headers, body = http("POST", issuer + "/token", form=token_form)
        assert status == 200, body
        served.add(headers["x-served-by"])
        tokens = json.loads(body)
        for id in range(3):  # the access token works on every replica
            status, headers, body = mcp(f"http://127.0.0.1:{front}", INIT, tokens["access_token"])
            assert status == 200, body
        for replica in secured.replicas:
            status, _, body = mcp(replica.base, INIT, tokens["access_token"])
            assert status == 200, body
        # The code again (another replica): refused, and what it granted is revoked everywhere.
        status, headers, body = http("POST", issuer + "/token", form=token_form)
        assert status == 400 and json.loads(body)["error"] == "invalid_grant"
        served.add(headers["x-served-by"])
        for replica in secured.replicas:
            status, _, _ = mcp(replica.base, INIT, tokens["access_token"])
            assert status == 401
        # A fresh grant; its refresh token redeemed on two replicas at the same moment: exactly one wins.
        verifier, challenge = pkce()
        query["code_challenge"] = challenge
        answer = Browser().approve(issuer + "/authorize?" + urlencode(query), redirect_uri)
        token_form.update(code=answer["code"], code_verifier=verifier)
        fresh = json.loads(http("POST", issuer + "/token", form=token_form)[2])
        results = []
        def redeem(replica):
            results.append(http("POST", replica.base + "/oauth/token", form={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"], "client_id": client_id})[0])
        threads = [threading.Thread(target=redeem, args=(replica,)) for replica in secured.replicas[:2]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(results) == [200, 400], results
        assert len(served) >= 2, served  # registration and token steps really ran on several replicas

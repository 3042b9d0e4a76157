"""Failure behaviour seen from outside: the real binary, the official Python MCP SDK and the demo
engine as its own process, which the tests freeze (SIGSTOP: connections stay open and nothing is
answered — a hung engine) and thaw."""
import json
import os
import signal
import time
import urllib.request

import anyio
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from cluster import wait_until
from demo_engine import DemoEngineProcess
from mcp_server import Server

SALES = {"app_id": "sales-analytics"}


def healthz(server):
    status, body = server.get("/healthz")
    return status, json.loads(body)


def test_hung_engine_opens_the_breaker_calls_fail_fast_then_it_heals(qlik_mcp_bin):
    engine = DemoEngineProcess(qlik_mcp_bin, extra_args=["--order-lines", "5000"])
    try:
        args = ["--engine", engine.url(""), "--cache", "off", "--engine-timeout", "0.3", "--retry", "attempts=1",
                "--breaker-engine", "min_calls=4,slow_call=0.25,open_for=2,probes=1"]
        with Server(qlik_mcp_bin, *args, demo=False) as server:
            async def main():
                async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        assert not (await session.call_tool("list_measures", SALES)).is_error
                        os.kill(engine.process.pid, signal.SIGSTOP)
                        hung = []
                        for _ in range(4):
                            started = time.monotonic()
                            result = await session.call_tool("list_measures", SALES)
                            hung.append((result.structured_content["error"]["code"], time.monotonic() - started))
                        fast = []
                        for _ in range(5):
                            started = time.monotonic()
                            result = await session.call_tool("list_measures", SALES)
                            fast.append((result.structured_content["error"], time.monotonic() - started))
                        status, report = healthz(server)
                        os.kill(engine.process.pid, signal.SIGCONT)
                        healed = False
                        deadline = time.monotonic() + 30
                        while not healed and time.monotonic() < deadline:
                            healed = not (await session.call_tool("list_measures", SALES)).is_error
                            if not healed:
                                await anyio.sleep(0.1)  # polling the breaker's recovery, bounded
                        return hung, fast, report, healed
            hung, fast, report, healed = anyio.run(main)
            # The first call waits for the engine timeout; the socket is then given up, reconnecting
            # waits for the connect timeout; once the breaker has seen enough failures it opens.
            assert hung[0][0] == "ENGINE_TIMEOUT" and 0.25 <= hung[0][1] < 5, hung
            assert all(code in ("ENGINE_TIMEOUT", "ENGINE_UNAVAILABLE", "CIRCUIT_OPEN") and seconds < 5 for code, seconds in hung), hung
            assert all(error["code"] == "CIRCUIT_OPEN" and error["retryable"] and error["retry_after_s"] >= 1 for error, _ in fast), fast
            assert all(seconds < 0.2 for _, seconds in fast), [seconds for _, seconds in fast]
            engine_breakers = [b for b in report["circuit_breakers"] if b["class"] == "engine"]
            assert engine_breakers and engine_breakers[0]["state"] == "open", report
            assert report["dependencies"]["qlik_engine"].get("degraded") is True, report
            assert healed, "the breaker never closed again"
            metrics = server.metrics()
            opened = [v for k, v in metrics.items() if k.startswith("qlik_mcp_circuit_breaker_transitions_total") and 'to="open"' in k and "engine:" in k]
            assert opened and opened[0] >= 1, metrics
            rejected = [v for k, v in metrics.items() if k.startswith("qlik_mcp_circuit_breaker_rejections_total") and "engine:" in k]
            assert rejected and rejected[0] >= 5
            state = [v for k, v in metrics.items() if k.startswith("qlik_mcp_circuit_breaker_state") and 'class="engine"' in k]
            assert state == [0.0], state
    finally:
        try:
            os.kill(engine.process.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        engine.stop()


def test_bad_failure_settings_are_refused_with_the_setting_named(qlik_mcp_bin):
    import subprocess
    for args, expected in [
        (["--breaker-engine", "failure_rate=2"], "failure_rate must be a number between"),
        (["--breaker-tool", "colour=red"], "unknown key 'colour'"),
        (["--retry", "attempts"], "is not key=value"),
        (["--engine-timeout", "0"], "--engine-timeout must be between"),
        (["--resilience", "maybe"], "--resilience must be on or off"),
    ]:
        out = subprocess.run([qlik_mcp_bin, "serve", "--demo", *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode != 0 and expected in out.stderr, (args, out.stderr[-400:])


def test_a_failed_reload_is_kept_survives_the_restart_and_runs_again_from_the_command_line(qlik_mcp_bin, tmp_path):
    import subprocess
    data = tmp_path / "data"
    env = {"QLIK_MCP_DEMO_ERROR_RATE": "1", "QLIK_MCP_DEMO_ERROR_METHODS": "DoReloadEx"}
    with Server(qlik_mcp_bin, "--data-dir", str(data), env=env) as server:
        async def main():
            async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    failed = await session.call_tool("reload_app", SALES)
                    listed = await session.call_tool("list_dead_letters", {})
                    return failed, listed
        failed, listed = anyio.run(main)
        assert failed.is_error
        assert listed.structured_content["depth"] == 1, listed.structured_content
        assert server.metrics()["qlik_mcp_dlq_depth"] == 1
        assert server.stop() == 0
    out = subprocess.run([qlik_mcp_bin, "dlq", "list", "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    letters = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(letters) == 1 and letters[0]["operation"] == "reload_app" and letters[0]["arguments"] == SALES, letters
    retried = subprocess.run([qlik_mcp_bin, "dlq", "retry", letters[0]["id"], "--data-dir", str(data), "--demo"],
                             capture_output=True, text=True, timeout=120)
    assert retried.returncode == 0, retried.stdout + retried.stderr[-600:]
    assert json.loads(retried.stdout.splitlines()[-1])["succeeded"] is True
    after = subprocess.run([qlik_mcp_bin, "dlq", "list", "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert after.returncode == 0 and after.stdout.strip() == ""
    missing = subprocess.run([qlik_mcp_bin, "dlq", "show", "dl-nope", "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "no dead letter dl-nope" in missing.stderr


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None


def test_engine_killed_under_16_clients_fails_fast_flips_readiness_and_recovers_on_restart(qlik_mcp_bin):
    """SIGKILL the engine while 16 clients call, restart it on the same port: the breaker opens
    within its window, rejected calls are answered at once, readiness fails while it is open, and
    calls succeed again within the cool-down plus one probe. Prints the measured times."""
    engine = DemoEngineProcess(qlik_mcp_bin)
    port = engine.port
    open_for = 3.0
    args = ["--engine", engine.url(""), "--cache", "off", "--engine-timeout", "5", "--ready-fails-on-open-breaker",
            "--breaker-engine", f"window=5,min_calls=8,failure_rate=0.5,open_for={open_for},probes=2"]
    restarted = None
    try:
        # One log line per call: checking each against the schema would have this test measure how
        # fast Python drains the server's stderr pipe (a full pipe blocks the writer), not the breaker.
        with Server(qlik_mcp_bin, *args, demo=False, check_logs=False) as server:
            calls = []  # (started, finished, code or "ok", server durationMs)
            marks = {}
            stop = anyio.Event()

            async def client():
                async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        while not stop.is_set():
                            started = time.monotonic()
                            result = await session.call_tool("list_measures", SALES)
                            finished = time.monotonic()
                            code = result.structured_content["error"]["code"] if result.is_error else "ok"
                            calls.append((started, finished, code, (result.meta or {}).get("durationMs")))
                            if code != "ok":
                                await anyio.sleep(0.1)  # backing off a little (a real assistant waits retry_after_s)

            async def conductor():
                nonlocal restarted
                await wait_for(lambda: sum(1 for c in calls if c[2] == "ok") >= 100, 60)
                marks["kill"] = time.monotonic()
                engine.process.kill()
                engine.process.wait()
                await wait_for(lambda: any(c[2] == "CIRCUIT_OPEN" for c in calls), 30)
                marks["readyz_open"] = (await anyio.to_thread.run_sync(server.get, "/readyz"))[0]
                # Let the rejections pile up for a while, then bring the engine back on its port.
                await wait_for(lambda: sum(1 for c in calls if c[2] == "CIRCUIT_OPEN") >= 150, 30)
                restarted = await anyio.to_thread.run_sync(lambda: DemoEngineProcess(qlik_mcp_bin, port=port))
                marks["restart"] = time.monotonic()
                await wait_for(lambda: any(c[2] == "ok" and c[0] > marks["restart"] for c in calls), 30)
                marks["recovered"] = min(c[1] for c in calls if c[2] == "ok" and c[0] > marks["restart"])
                await wait_for(lambda: sum(1 for c in calls if c[2] == "ok" and c[0] > marks["recovered"]) >= 50, 30)
                stop.set()

            async def main():
                with anyio.fail_after(180):  # no stuck call: every client ends
                    async with anyio.create_task_group() as group:
                        for _ in range(16):
                            group.start_soon(client)
                        group.start_soon(conductor)

            anyio.run(main)
            rejected = [c for c in calls if c[2] == "CIRCUIT_OPEN"]
            first_rejection = min(c[1] for c in rejected)
            detection = first_rejection - marks["kill"]
            recovery = marks["recovered"] - marks["restart"]
            server_p99 = percentile([c[3] for c in rejected if c[3] is not None], 0.99)
            client_p99 = percentile([(c[1] - c[0]) * 1000 for c in rejected], 0.99)
            after_open = [c for c in calls if c[0] > first_rejection and c[2] != "ok" and c[3] is not None]
            slowest_after_open = max(c[3] for c in after_open)
            outage = [c for c in calls if marks["kill"] <= c[0] <= marks["restart"]]
            print(f"\nengine killed under 16 clients: detection {detection * 1000:.0f} ms, recovery after restart {recovery * 1000:.0f} ms "
                  f"(open_for {open_for:.0f} s), {len(rejected)} rejected calls: p99 {server_p99:.3f} ms in the server, "
                  f"{client_p99:.1f} ms at the client; {len(outage)} calls during the outage, slowest failure after the breaker opened "
                  f"{slowest_after_open:.1f} ms")
            assert detection < 5, detection  # within the breaker's window
            assert server_p99 <= 5, server_p99
            assert slowest_after_open < 5000, "a call waited for its full timeout after the breaker opened"
            assert marks["readyz_open"] == 503
            assert recovery <= open_for + 2, recovery
            status, _ = server.get("/readyz")
            assert status == 200
            metrics = server.metrics()
            assert metrics.get("qix_pool_waiters", 0) == 0
            assert metrics.get("qix_connections_active", 0) <= 16, metrics.get("qix_connections_active")
            state = [v for k, v in metrics.items() if k.startswith("qlik_mcp_circuit_breaker_state") and 'class="engine"' in k]
            assert state == [0.0], state
    finally:
        engine.stop()
        if restarted:
            restarted.stop()


async def wait_for(condition, timeout):
    """Waits (bounded) until `condition()` holds: polls shared state the client tasks fill."""
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.02)


def test_a_reload_with_an_idempotency_key_runs_once_and_bad_directives_are_refused(qlik_mcp_bin):
    from mcp.shared.exceptions import MCPError
    with Server(qlik_mcp_bin) as server:
        async def main():
            async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    key = {"idempotencyKey": "e2e-reload-1"}
                    first = await session.call_tool("reload_app", SALES, meta=key)
                    second = await session.call_tool("reload_app", SALES, meta=key)
                    reused = await session.call_tool("reload_app", {"app_id": "hr-insights"}, meta=key)
                    refused = []
                    for meta in ({"idempotencyKey": ""}, {"idempotencyKey": 42}, {"timeoutMs": 0}, {"cache": 1}):
                        try:
                            await session.call_tool("list_apps", {}, meta=meta)
                            refused.append(None)
                        except MCPError as error:
                            refused.append((error.error.code, error.error.message))
                    return first, second, reused, refused
        first, second, reused, refused = anyio.run(main)
        assert not first.is_error and not (first.meta or {}).get("idempotentReplay"), first
        assert not second.is_error and second.meta.get("idempotentReplay") is True, second.meta
        assert second.structured_content == first.structured_content
        assert reused.is_error and reused.structured_content["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        for entry, field in zip(refused, ["_meta.idempotencyKey", "_meta.idempotencyKey", "_meta.timeoutMs", "_meta.cache"]):
            assert entry is not None and entry[0] == -32602 and field in entry[1], refused
        metrics = server.metrics()
        answered = [v for k, v in metrics.items() if k.startswith("qlik_mcp_tool_calls_total") and 'tool="reload_app"' in k and 'outcome="ok"' in k]
        reloads = [v for k, v in metrics.items() if k.startswith("qix_request_duration_seconds_count") and 'method="DoReloadEx"' in k]
        assert answered == [2.0] and reloads == [1.0], (answered, reloads)  # two answers, one reload on the engine

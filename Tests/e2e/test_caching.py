"""The tool cache seen from outside: the real binary, the official Python MCP SDK, the demo engine
as its own process (its GET /stats counts the QIX requests it answered), real redis-server."""
import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from cluster import Redis, wait_until
from demo_engine import DemoEngineProcess
from mcp_server import Server

SALES = {"app_id": "sales-analytics"}
BY_REGION = {"app_id": "sales-analytics", "dimensions": ["Region"], "measures": ["Sum(Sales)"]}


def engine_requests(engine, method=None):
    with urllib.request.urlopen(f"http://127.0.0.1:{engine.port}/stats", timeout=10) as response:
        stats = json.loads(response.read())
    return stats["methods"].get(method, 0) if method else stats["total"]


def calls(server, steps):
    """Runs `steps(session)` in one SDK session on `server`; returns what it returns."""
    async def main():
        async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await steps(session)
    return anyio.run(main)


def cache_of(result):
    return (result.meta or {}).get("cache"), (result.meta or {}).get("cacheTier")


@pytest.fixture(scope="module")
def workdir():
    directory = Path(tempfile.mkdtemp(prefix="qlik-mcp-cache-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def engine(qlik_mcp_bin):
    started = DemoEngineProcess(qlik_mcp_bin, extra_args=["--order-lines", "5000", "--latency-ms", "20"])
    yield started
    started.stop()


def test_hits_misses_bypass_and_metrics_over_the_sdk(qlik_mcp_bin, engine):
    with Server(qlik_mcp_bin, "--engine", engine.url(""), demo=False) as server:
        async def steps(session):
            first = await session.call_tool("list_measures", SALES)
            before = engine_requests(engine)
            second = await session.call_tool("list_measures", SALES)
            after = engine_requests(engine)
            bypassed = await session.call_tool("list_measures", SALES, meta={"cache": "bypass"})
            selection = await session.call_tool("select_values", {"app_id": "sales-analytics", "field": "Region", "values": ["Europe"]})
            return first, second, before, after, bypassed, selection
        first, second, before, after, bypassed, selection = calls(server, steps)
        assert cache_of(first) == ("miss", None) and not first.is_error
        assert cache_of(second) == ("hit", "l1") and second.structured_content == first.structured_content
        assert after == before, "a hit made engine requests"
        assert bypassed.meta["cache"] == "bypass" and bypassed.meta["cacheBypassReason"] == "requested"
        assert selection.meta["cache"] == "bypass" and selection.meta["cacheBypassReason"] == "policy"
        metrics = server.metrics()
        assert metrics['qlik_mcp_cache_requests_total{cache="master_items",tier="l1",result="hit"}'] >= 1
        assert metrics['qlik_mcp_cache_requests_total{cache="master_items",tier="l1",result="miss"}'] >= 1
        assert 0 < metrics['qlik_mcp_cache_bytes{tier="l1"}'] <= metrics['qlik_mcp_cache_max_bytes{tier="l1"}']


def test_one_hundred_concurrent_identical_misses_make_one_engine_call(qlik_mcp_bin, engine):
    with Server(qlik_mcp_bin, "--engine", engine.url(""), demo=False) as server:
        async def steps(session):
            await session.call_tool("get_app", SALES)  # the app is listed, its connection open
            before = engine_requests(engine, "GetTablesAndKeys")
            results = [None] * 100

            async def one(index):
                results[index] = await session.call_tool("get_data_model", SALES)
            async with anyio.create_task_group() as group:
                for index in range(100):
                    group.start_soon(one, index)
            return before, results
        before, results = calls(server, steps)
        assert all(not result.is_error for result in results)
        assert engine_requests(engine, "GetTablesAndKeys") - before == 1
        assert sorted(cache_of(result)[0] for result in results).count("miss") == 1
        assert server.metrics()["qlik_mcp_cache_singleflight_coalesced_total"] >= 1


def test_engine_down_metadata_is_stale_with_its_age_data_fails_retryably(qlik_mcp_bin):
    engine = DemoEngineProcess(qlik_mcp_bin, extra_args=["--order-lines", "5000"])
    try:
        # TTL 0: always asked; the answers are kept only as the fallback for engine failures.
        with Server(qlik_mcp_bin, "--engine", engine.url(""), "--cache-ttl", "metadata=0", "--cache-stale", "metadata=3600", demo=False) as server:
            async def steps(session):
                fresh = await session.call_tool("get_data_model", SALES)
                again = await session.call_tool("get_data_model", SALES)
                engine.stop()
                stale = await session.call_tool("get_data_model", SALES)
                data = await session.call_tool("query_data", BY_REGION)
                return fresh, again, stale, data
            fresh, again, stale, data = calls(server, steps)
            assert cache_of(fresh)[0] == "miss" and cache_of(again)[0] == "miss"
            assert stale.meta["cache"] == "stale" and stale.meta["cacheTier"] == "l1", stale.meta
            assert stale.meta["cacheAgeSeconds"] >= 0 and not stale.is_error
            assert stale.structured_content == fresh.structured_content
            assert data.is_error and data.structured_content["error"]["retryable"] is True
            assert data.structured_content["error"]["category"] in ("engine_unavailable", "timeout")
            assert server.metrics()['qlik_mcp_cache_requests_total{cache="metadata",tier="l1",result="stale"}'] == 1
    finally:
        engine.stop()


def test_reload_on_one_replica_no_replica_serves_the_old_answer_then_cli_flush(qlik_mcp_bin, engine, workdir):
    redis = Redis(workdir)
    common = ["--engine", engine.url(""), "--state", "redis", "--redis-url", redis.url]
    try:
        with Server(qlik_mcp_bin, *common, demo=False) as a, Server(qlik_mcp_bin, *common, demo=False) as b:
            before_a = calls(a, lambda s: s.call_tool("get_app", SALES))
            before_b = calls(b, lambda s: s.call_tool("get_app", SALES))
            assert cache_of(before_b) == ("hit", "l2"), before_b.meta  # a's answer, shared through Redis
            assert calls(b, lambda s: s.call_tool("get_app", SALES)).meta["cacheTier"] == "l1"
            reload = calls(a, lambda s: s.call_tool("reload_app", SALES))
            assert not reload.is_error, reload
            for server in (a, b):
                after = calls(server, lambda s: s.call_tool("get_app", SALES))
                assert after.structured_content["last_reload_time"] != before_a.structured_content["last_reload_time"]
            listed = calls(b, lambda s: s.call_tool("list_apps", {}))
            times = {app["id"]: app.get("last_reload_time") for app in listed.structured_content["apps"]}
            assert times["sales-analytics"] == calls(a, lambda s: s.call_tool("get_app", SALES)).structured_content["last_reload_time"]
            # The command line flushes through Redis; every replica drops its copies.
            calls(b, lambda s: s.call_tool("list_measures", SALES))
            assert cache_of(calls(b, lambda s: s.call_tool("list_measures", SALES))) == ("hit", "l1")
            out = subprocess.run([qlik_mcp_bin, "cache", "flush", "--app", "sales-analytics", "--redis-url", redis.url],
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            assert json.loads(out.stdout)["scope"] == "sales-analytics"
            wait_until(lambda: b.metrics().get('qlik_mcp_cache_evictions_total{cache="master_items",tier="l1",reason="flushed"}', 0) >= 1,
                       what="replica b to drop the flushed entries")
            assert cache_of(calls(b, lambda s: s.call_tool("list_measures", SALES)))[0] == "miss"
    finally:
        redis.stop()


def test_redis_down_the_in_process_tier_keeps_answering(qlik_mcp_bin, engine, workdir):
    (workdir / "down").mkdir(exist_ok=True)
    redis = Redis(workdir / "down")
    try:
        with Server(qlik_mcp_bin, "--engine", engine.url(""), "--cache", "redis", "--redis-url", redis.url, demo=False) as server:
            async def steps(session):
                first = await session.call_tool("list_dimensions", SALES)
                redis.kill()
                answers = [await session.call_tool("list_dimensions", SALES) for _ in range(3)]
                fresh = await session.call_tool("list_sheets", SALES)
                return first, answers, fresh
            first, answers, fresh = calls(server, steps)
            assert not first.is_error and all(not answer.is_error for answer in answers) and not fresh.is_error
            assert all(cache_of(answer) == ("hit", "l1") for answer in answers)
            assert server.metrics().get('qlik_mcp_cache_l2_errors_total{operation="get"}', 0) + \
                server.metrics().get('qlik_mcp_cache_l2_errors_total{operation="set"}', 0) >= 1
    finally:
        redis.stop()


def test_warming_loads_the_metadata_before_the_first_call(qlik_mcp_bin, engine):
    with Server(qlik_mcp_bin, "--engine", engine.url(""), "--cache-warm", "sales-analytics", demo=False) as server:
        wait_until(lambda: any('"cache warming finished"' in line for line in server.log), what="warming to finish")
        assert server.metrics()['qlik_mcp_cache_warm_calls_total{outcome="ok"}'] >= 5
        result = calls(server, lambda s: s.call_tool("list_measures", SALES))
        assert cache_of(result) == ("hit", "l1")


def test_bad_cache_settings_are_refused_with_the_setting_named(qlik_mcp_bin):
    for args, expected in [
        (["--cache", "disk"], "--cache must be off, memory or redis"),
        (["--cache-ttl", "metadata=ten"], "--cache-ttl"),
        (["--cache-max-bytes", "12 parsecs"], "--cache-max-bytes"),
        (["--cache", "redis"], "--redis-url"),
        (["--cache-max-bytes", "1KiB"], "between 1 MiB and 16 GiB"),
    ]:
        out = subprocess.run([qlik_mcp_bin, "serve", "--demo", *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode != 0 and expected in out.stderr, (args, out.stderr[-400:])
    out = subprocess.run([qlik_mcp_bin, "cache", "flush"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "flush_cache" in out.stderr

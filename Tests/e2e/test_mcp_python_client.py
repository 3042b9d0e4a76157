"""End to end with the official Python MCP SDK (PyPI `mcp`) against the real binary over stdio,
Streamable HTTP and legacy SSE. Expected values come from the demo apps' definitions (120,000
order lines, the sales app's five tables and three sheets, HR's seeded reload), not from our tools."""
import re
import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from mcp_server import Server

EXPECTED_TOOLS = {"list_apps", "get_app", "get_data_model", "query_data", "list_sheets", "get_script", "reload_app", "get_reload_history"}


async def exercise(session: ClientSession):
    """Initialize, list everything, one call per toolset, progress notifications; returns call counts."""
    init = await session.initialize()
    assert init.server_info.name == "qlik-mcp"
    assert init.capabilities.tools.list_changed is True
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert EXPECTED_TOOLS <= set(tools)
    assert tools["reload_app"].annotations.read_only_hint is False
    assert tools["list_apps"].output_schema["type"] == "object"
    resources = await session.list_resources()
    assert [str(r.uri) for r in resources.resources] == ["qlik://apps"]
    templates = await session.list_resource_templates()
    assert "qlik://apps/{appId}/script" in [t.uri_template for t in templates.resource_templates]
    prompts = await session.list_prompts()
    assert {p.name for p in prompts.prompts} == {"explore_app", "explain_measure", "data_quality_report"}

    apps = await session.call_tool("list_apps", {})
    assert not apps.is_error
    assert {a["id"] for a in apps.structured_content["apps"]} == {"sales-analytics", "hr-insights"}
    model = await session.call_tool("get_data_model", {"app_id": "sales-analytics"})
    assert [t["name"] for t in model.structured_content["tables"]] == ["OrderLines", "Customers", "Products", "Regions", "Calendar"]
    count = await session.call_tool("evaluate_expression", {"app_id": "sales-analytics", "expression": "Count(OrderLineID)"})
    assert count.structured_content["number"] == 120000
    sheets = await session.call_tool("list_sheets", {"app_id": "sales-analytics"})
    assert [s["title"] for s in sheets.structured_content["sheets"]] == ["Sales Overview", "Product Analysis", "Customer Details"]
    history = await session.call_tool("get_reload_history", {"app_id": "hr-insights", "limit": 5})
    assert history.structured_content["reloads"][-1]["id"] == "hr-r-0630"
    missing = await session.call_tool("get_app", {"app_id": "sales-analytic"})
    assert missing.is_error and missing.structured_content["error"]["category"] == "not_found"
    assert "sales-analytics" in missing.structured_content["error"]["remediation"]

    script = await session.read_resource("qlik://apps/sales-analytics/script")
    assert "///$tab Main" in script.contents[0].text
    prompt = await session.get_prompt("explore_app", {"app_id": "hr-insights"})
    assert "hr-insights" in prompt.messages[0].content.text

    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, total, message))

    reload = await session.call_tool("reload_app", {"app_id": "hr-insights"}, progress_callback=on_progress)
    assert not reload.is_error and reload.structured_content["success"] is True
    assert len(updates) >= 3
    assert [u[0] for u in updates] == sorted(u[0] for u in updates)
    assert updates[-1][1] == updates[-1][0]
    history = await session.call_tool("get_reload_history", {"app_id": "hr-insights", "limit": 5})
    assert history.structured_content["reloads"][0]["status"] == "SUCCEEDED"
    assert history.structured_content["reloads"][0]["id"] != "hr-r-0630"
    return {"list_apps": 1, "get_data_model": 1, "evaluate_expression": 1, "list_sheets": 1, "get_reload_history": 2,
            "get_app": 1, "get_script": 1, "reload_app": 1}


def test_stdio(qlik_mcp_bin):
    async def main():
        params = StdioServerParameters(command=qlik_mcp_bin, args=["serve", "--demo"])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session)
    anyio.run(main)


def test_streamable_http_and_metrics(qlik_mcp_bin):
    with Server(qlik_mcp_bin) as server:
        async def main():
            async with streamable_http_client(server.base + "/mcp") as (read, write, *_):
                async with ClientSession(read, write) as session:
                    return await exercise(session)
        calls = anyio.run(main)
        metrics = server.metrics()
        for tool, n in calls.items():
            ok = metrics.get(f'qlik_mcp_tool_calls_total{{tool="{tool}",toolset="{toolset(tool)}",outcome="ok"}}', 0)
            error = metrics.get(f'qlik_mcp_tool_calls_total{{tool="{tool}",toolset="{toolset(tool)}",outcome="error"}}', 0)
            assert ok + error == n, (tool, ok, error)
        # OTel MCP conventions: one histogram per method/tool/error type; a tool result with isError is error_type="tool_error".
        operations = {name: value for name, value in metrics.items() if name.startswith("mcp_server_operation_duration_seconds_count{")}
        initialize = [value for name, value in operations.items() if 'mcp_method_name="initialize"' in name and "error_type" not in name]
        assert sum(initialize) == 1, operations
        tool_calls = {name: value for name, value in operations.items() if 'mcp_method_name="tools/call"' in name}
        # get_script ran for resources/read, not as a tools/call.
        assert sum(tool_calls.values()) == sum(calls.values()) - calls["get_script"], sorted((re.findall(r'gen_ai_tool_name="(\w+)"', k) + re.findall(r'error_type="([^"]+)"', k), v) for k, v in tool_calls.items())
        assert all('network_transport="tcp"' in name and 'mcp_protocol_version="' in name for name in tool_calls)
        for tool, n in calls.items():
            expected = 0 if tool == "get_script" else n
            assert sum(value for name, value in tool_calls.items() if f'gen_ai_tool_name="{tool}"' in name) == expected, tool
        assert metrics['qlik_mcp_sessions_total{transport="http"}'] == 1
        assert server.stop() == 0


def test_legacy_sse(qlik_mcp_bin):
    with Server(qlik_mcp_bin) as server:
        async def main():
            async with sse_client(server.base + "/sse") as (read, write):
                async with ClientSession(read, write) as session:
                    await exercise(session)
        anyio.run(main)
        assert server.metrics()['qlik_mcp_sessions_total{transport="sse"}'] == 1
        assert server.stop() == 0


def toolset(tool):
    return {"list_apps": "apps", "get_app": "apps", "get_data_model": "data_model", "evaluate_expression": "analytics",
            "list_sheets": "visualization", "get_reload_history": "governance", "get_script": "governance",
            "reload_app": "governance"}[tool]


def test_stdio_answers_requests_sent_before_end_of_input(qlik_mcp_bin):
    # `printf '…' | qlik-mcp serve`: every request before stdin's EOF is answered before exit
    # (the answers used to be dropped when the output closed first).
    import json
    import subprocess
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "pipe", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_engine_info", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
    ]
    completed = subprocess.run([qlik_mcp_bin, "serve", "--demo", "--log-level", "error"],
                               input="".join(json.dumps(r) + "\n" for r in requests), capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    answers = {m["id"]: m for m in map(json.loads, completed.stdout.splitlines())}
    assert set(answers) == {1, 2, 3}, completed.stdout
    assert answers[2]["result"]["structuredContent"]["backend"] == "demo"
    assert any(tool["name"] == "query_data" for tool in answers[3]["result"]["tools"])


def test_stdio_sigterm_with_stdin_still_open_exits_cleanly(qlik_mcp_bin):
    # Claude Desktop-style: the client keeps stdin open; SIGTERM must still end the server
    # promptly with status 0 (the NIO pipe transport used to wait for input that never came).
    import json
    import signal
    import subprocess
    process = subprocess.Popen([qlik_mcp_bin, "serve", "--demo", "--log-level", "error"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                   "clientInfo": {"name": "term", "version": "1"}}}) + "\n")
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 1  # the server is up and answering
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()

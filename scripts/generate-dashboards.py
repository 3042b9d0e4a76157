#!/usr/bin/env python3
"""Writes the Grafana dashboards in dashboards/ with Grafana's own typed builders (PyPI
`grafana-foundation-sdk`), so panels, queries and variables keep up with Grafana's schema. One
generator, so every dashboard shares the same datasource/job/instance variables, links, units and
trace links. Rerun after editing (needs the test virtualenv, scripts/bootstrap):
    .venv/bin/python3 scripts/generate-dashboards.py
"""
import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, dashboard, heatmap, piechart, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (DashboardLinkType, DataSourceRef, Threshold, ThresholdsMode, VariableHide,
                                                     VariableRefresh)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "dashboards"
DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
SEL = 'job=~"$job", instance=~"$instance"'
TRACE_LINK = [("Traces of qlik-mcp in the tracing backend", "${tracing_url}/search?service=qlik-mcp")]
KINDS = {"timeseries": timeseries.Panel, "stat": stat.Panel, "table": table.Panel, "piechart": piechart.Panel,
         "bargauge": bargauge.Panel, "heatmap": heatmap.Panel}
FORMATS = {"table": PromQueryFormat.TABLE, "heatmap": PromQueryFormat.HEATMAP}


def query(expr, legend="", ref="A", fmt=None):
    q = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DS)
    if fmt:
        q = q.format(FORMATS[fmt])
    return q


def thresholds(steps):
    return dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(color=c, value=v) for c, v in steps])


class Board:
    """Panels laid out left to right on Grafana's 24-column grid, rows between sections."""

    def __init__(self, uid, title, description):
        self.uid, self.title, self.description = uid, title, description
        self.items, self.next_id = [], 1

    def add(self, kind, title, description, targets, unit="short", width=12, height=8, thresholds=None, links=None):
        panel = (KINDS[kind]().id(self.next_id).title(title).description(description).datasource(DS)
                 .unit(unit).span(width).height(height)
                 .thresholds(globals()["thresholds"](thresholds or [("green", None)])))
        for index, t in enumerate(targets):
            t = t if isinstance(t, tuple) else (t,)
            panel = panel.with_target(query(*t[:1], *(t[1:2] or ("",)), chr(ord("A") + index), *t[3:4]))
        if links:
            panel = panel.links([dashboard.DashboardLink(name).url(url).target_blank(True) for name, url in links])
        self.items.append(("panel", panel))
        self.next_id += 1

    def row(self, title):
        self.items.append(("row", dashboard.Row(title).id(self.next_id)))
        self.next_id += 1

    def build(self):
        board = (dashboard.Dashboard(self.title).uid(self.uid).description(self.description).tags(["qlik-mcp"])
                 .timezone("browser").editable().refresh("30s").time("now-6h", "now")
                 .link(dashboard.DashboardLink("qlik-mcp dashboards").type(DashboardLinkType.DASHBOARDS).tags(["qlik-mcp"])
                       .as_dropdown(True).include_vars(True).keep_time(True))
                 .with_variable(dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
                 .with_variable(dashboard.QueryVariable("job").label("Job").datasource(DS)
                                .query({"query": "label_values(qlik_mcp_build_info, job)", "refId": "job"})
                                .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).include_all(True).multi(True))
                 .with_variable(dashboard.QueryVariable("instance").label("Instance").datasource(DS)
                                .query({"query": 'label_values(qlik_mcp_build_info{job=~"$job"}, instance)', "refId": "instance"})
                                .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).include_all(True).multi(True))
                 .with_variable(dashboard.TextBoxVariable("tracing_url").label("Tracing UI").default_value("http://localhost:16686")))
        for kind, item in self.items:
            board = board.with_row(item) if kind == "row" else board.with_panel(item)
        return board.build()


def red(threshold):
    return [("green", None), ("red", threshold)]


def latency_quantiles(metric, by=""):
    group = f"le{', ' + by if by else ''}"
    return [(f'histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{SEL}}}[$__rate_interval])))', f"p{int(q * 100)}{' {{' + by + '}}' if by else ''}")
            for q in (0.5, 0.95, 0.99)]


def service_health():
    b = Board("qlik-mcp-health", "qlik-mcp / Service health", "Is qlik-mcp up, ready, fast and error-free? Start here.")
    b.add("stat", "Up", "1 when Prometheus scrapes the instance.", [(f'up{{{SEL}}}', "{{instance}}")], width=4, thresholds=[("red", None), ("green", 1)])
    b.add("stat", "Ready", "/readyz state from the background engine check (qlik_mcp_health_ready).", [(f'qlik_mcp_health_ready{{{SEL}}}', "{{instance}}")], width=4,
          thresholds=[("red", None), ("green", 1)])
    b.add("stat", "Tool error ratio (5m)", "Share of tool calls that failed; the SLO allows 0.5 %.", [(f'qlik_mcp:tool_errors:ratio_rate5m{{{SEL}}}', "{{instance}}")],
          unit="percentunit", width=4, thresholds=red(0.005))
    b.add("stat", "Request rate", "MCP requests per second (mcp_server_operation_duration_seconds_count).",
          [(f'sum(rate(mcp_server_operation_duration_seconds_count{{{SEL}}}[$__rate_interval]))', "requests/s")], unit="reqps", width=4)
    b.add("table", "Build", "Version and Swift version of each instance (qlik_mcp_build_info).", [(f'qlik_mcp_build_info{{{SEL}}}', "", "A", "table")], width=8)
    b.row("Traffic and latency")
    b.add("timeseries", "Requests by method and error type", "MCP requests per second by method; error_type is a JSON-RPC code, or tool_error for a tool result with isError (empty: success).",
          [(f'sum by (mcp_method_name, error_type) (rate(mcp_server_operation_duration_seconds_count{{{SEL}}}[$__rate_interval]))', "{{mcp_method_name}} {{error_type}}")], unit="reqps")
    b.add("timeseries", "Request latency p50/p95/p99", "mcp_server_operation_duration_seconds quantiles. Follow the panel link to the traces.",
          latency_quantiles("mcp_server_operation_duration_seconds"), unit="s", thresholds=red(2), links=TRACE_LINK)
    b.add("timeseries", "Sessions by transport", "Open MCP sessions (qlik_mcp_sessions_active) and the limit (qlik_mcp_sessions_limit).",
          [(f'sum by (transport) (qlik_mcp_sessions_active{{{SEL}}})', "{{transport}}"), (f'max(qlik_mcp_sessions_limit{{{SEL}}})', "limit")])
    b.add("timeseries", "HTTP responses by status", "HTTP requests per second by route and status code (http_server_request_duration_seconds_count).",
          [(f'sum by (http_route, http_response_status_code) (rate(http_server_request_duration_seconds_count{{{SEL}}}[$__rate_interval]))', "{{http_route}} {{http_response_status_code}}")], unit="reqps")
    b.add("timeseries", "Session duration p50/p95", "How long MCP sessions last (mcp_server_session_duration_seconds), by transport.",
          latency_quantiles("mcp_server_session_duration_seconds", by="network_transport")[:2], unit="s", width=24)
    b.row("Process")
    b.add("timeseries", "Memory", "Resident memory against the limit (cgroup or physical).",
          [(f'process_resident_memory_bytes{{{SEL}}}', "rss {{instance}}"), (f'process_memory_limit_bytes{{{SEL}}}', "limit {{instance}}")], unit="bytes")
    b.add("timeseries", "CPU", "CPU seconds used per second.", [(f'rate(process_cpu_seconds_total{{{SEL}}}[$__rate_interval])', "{{instance}}")], unit="percentunit")
    return b


def tool_usage():
    b = Board("qlik-mcp-tools", "qlik-mcp / Tool usage", "Which tools and apps assistants use, how often they fail, and which are slow.")
    b.add("timeseries", "Calls per tool", "qlik_mcp_tool_calls_total rate by tool.",
          [(f'sum by (tool) (rate(qlik_mcp_tool_calls_total{{{SEL}}}[$__rate_interval]))', "{{tool}}")], unit="reqps")
    b.add("piechart", "Calls per toolset", "Share of calls per toolset over the range.",
          [(f'sum by (toolset) (increase(qlik_mcp_tool_calls_total{{{SEL}}}[$__range]))', "{{toolset}}")])
    b.add("table", "Error ratio per tool", "Failed share of each tool's calls over the range.",
          [(f'sum by (tool) (increase(qlik_mcp_tool_calls_total{{{SEL}, outcome="error"}}[$__range])) / sum by (tool) (increase(qlik_mcp_tool_calls_total{{{SEL}}}[$__range]))', "{{tool}}", "A", "table")],
          unit="percentunit", thresholds=red(0.05))
    b.add("bargauge", "Slowest tools (p95)", "95th percentile per tool; follow the link to the traces.",
          [(f'topk(10, histogram_quantile(0.95, sum by (le, gen_ai_tool_name) (rate(mcp_server_operation_duration_seconds_bucket{{{SEL}, mcp_method_name="tools/call"}}[$__rate_interval]))))', "{{gen_ai_tool_name}}")],
          unit="s", thresholds=red(2), links=TRACE_LINK)
    b.add("timeseries", "Accesses per app", "qlik_app_access_total by app (the 50 most used apps; the rest as 'other').",
          [(f'sum by (app) (rate(qlik_app_access_total{{{SEL}}}[$__rate_interval]))', "{{app}}")], unit="reqps", width=24)
    return b


def performance():
    b = Board("qlik-mcp-performance", "qlik-mcp / Performance", "Latency distributions of requests, tools and QIX, and connection pool pressure.")
    b.add("heatmap", "Request latency heatmap", "mcp_server_operation_duration_seconds buckets over time.",
          [(f'sum by (le) (rate(mcp_server_operation_duration_seconds_bucket{{{SEL}}}[$__rate_interval]))', "{{le}}", "A", "heatmap")], unit="s", links=TRACE_LINK)
    b.add("heatmap", "Tool call latency heatmap", "mcp_server_operation_duration_seconds buckets of tools/call over time.",
          [(f'sum by (le) (rate(mcp_server_operation_duration_seconds_bucket{{{SEL}, mcp_method_name="tools/call"}}[$__rate_interval]))', "{{le}}", "A", "heatmap")], unit="s", links=TRACE_LINK)
    b.add("timeseries", "QIX latency p95 by method", "qix_request_duration_seconds p95 per engine method.",
          [(f'histogram_quantile(0.95, sum by (le, method) (rate(qix_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))', "{{method}}")], unit="s")
    b.add("timeseries", "Connection pool", "Open QIX connections, idle pooled sessions and callers waiting for one.",
          [(f'sum(qix_connections_active{{{SEL}}})', "open"), (f'sum(qix_pool_idle_connections{{{SEL}}})', "idle"), (f'sum(qix_pool_waiters{{{SEL}}})', "waiting")])
    b.add("timeseries", "HTTP latency p95 by route", "http_server_request_duration_seconds p95 (until the response head).",
          [(f'histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))', "{{http_route}}")], unit="s")
    b.add("timeseries", "In-flight HTTP requests", "http_server_active_requests by method.",
          [(f'sum by (http_request_method) (http_server_active_requests{{{SEL}}})', "{{http_request_method}}")])
    b.row("Cache (--cache memory|redis)")
    hits = f'qlik_mcp_cache_requests_total{{{SEL}, cache!="field_names", result=~"hit|stale"}}'
    lookups = f'qlik_mcp_cache_requests_total{{{SEL}, cache!="field_names", tier="l1", result=~"hit|miss"}}'
    b.add("stat", "Cache hit ratio (5m)", "Cacheable tool calls answered from a cache tier (hits and stale answers over lookups).",
          [(f'sum(rate({hits}[5m])) / sum(rate({lookups}[5m]))', "")], unit="percentunit")
    b.add("timeseries", "Hit ratio by class", "qlik_mcp_cache_requests_total per class (metadata, master_items, data): share answered from L1 or L2.",
          [(f'sum by (cache) (rate({hits}[$__rate_interval])) / sum by (cache) (rate({lookups}[$__rate_interval]))', "{{cache}}")], unit="percentunit")
    b.add("timeseries", "Lookups by tier and result", "Each lookup counts at l1, and at l2 when L1 missed; bypasses at tier none.",
          [(f'sum by (tier, result) (rate(qlik_mcp_cache_requests_total{{{SEL}, cache!="field_names"}}[$__rate_interval]))', "{{tier}} {{result}}")], unit="reqps")
    b.add("timeseries", "Cache memory", "Bytes held by the in-process tier against its bound.",
          [(f'sum(qlik_mcp_cache_bytes{{{SEL}}})', "bytes"), (f'sum(qlik_mcp_cache_max_bytes{{{SEL}}})', "bound")], unit="bytes")
    b.add("timeseries", "Evictions and invalidations", "qlik_mcp_cache_evictions_total by reason; qlik_mcp_cache_invalidations_total by reason.",
          [(f'sum by (reason) (rate(qlik_mcp_cache_evictions_total{{{SEL}}}[$__rate_interval]))', "evicted: {{reason}}"),
           (f'sum by (reason) (rate(qlik_mcp_cache_invalidations_total{{{SEL}}}[$__rate_interval]))', "invalidated: {{reason}}")])
    b.add("timeseries", "Single-flight and L2 errors", "Calls answered by an identical call's engine answer; callers waiting; failed Redis cache operations.",
          [(f'sum(rate(qlik_mcp_cache_singleflight_coalesced_total{{{SEL}}}[$__rate_interval]))', "coalesced/s"),
           (f'sum(qlik_mcp_cache_singleflight_waiters{{{SEL}}})', "waiting"),
           (f'sum by (operation) (rate(qlik_mcp_cache_l2_errors_total{{{SEL}}}[$__rate_interval]))', "L2 errors: {{operation}}")])
    return b


def errors():
    b = Board("qlik-mcp-errors", "qlik-mcp / Errors", "What fails: tool error categories, JSON-RPC errors, QIX errors, sessions refused, telemetry loss.")
    b.add("timeseries", "Tool errors by category", "qlik_mcp_tool_errors_total by taxonomy category.",
          [(f'sum by (category) (rate(qlik_mcp_tool_errors_total{{{SEL}}}[$__rate_interval]))', "{{category}}")], unit="reqps")
    b.add("table", "Tool errors by tool and category", "Failures over the range.",
          [(f'sum by (tool, category) (increase(qlik_mcp_tool_errors_total{{{SEL}}}[$__range])) > 0', "", "A", "table")])
    b.add("timeseries", "JSON-RPC errors by method", "Requests answered with a JSON-RPC error (error_type is the code, e.g. -32602 invalid params).",
          [(f'sum by (mcp_method_name, error_type) (rate(mcp_server_operation_duration_seconds_count{{{SEL}, error_type!="", error_type!="tool_error"}}[$__rate_interval]))', "{{mcp_method_name}} {{error_type}}")], unit="reqps")
    b.add("timeseries", "QIX errors by method", "qix_requests_total with outcome=error.",
          [(f'sum by (method) (rate(qix_requests_total{{{SEL}, outcome="error"}}[$__rate_interval]))', "{{method}}")], unit="reqps")
    b.add("timeseries", "Sessions refused and expired", "qlik_mcp_sessions_rejected_total by reason, qlik_mcp_sessions_expired_total.",
          [(f'sum by (reason) (rate(qlik_mcp_sessions_rejected_total{{{SEL}}}[$__rate_interval]))', "refused: {{reason}}"),
           (f'sum(rate(qlik_mcp_sessions_expired_total{{{SEL}}}[$__rate_interval]))', "expired")])
    b.add("timeseries", "Authentication refusals", "qlik_mcp_auth_attempts_total by outcome, without ok (missing: clients that sent nothing yet, as every OAuth client's first request does).",
          [(f'sum by (outcome) (rate(qlik_mcp_auth_attempts_total{{{SEL}, outcome!="ok"}}[$__rate_interval]))', "{{outcome}}")], unit="reqps")
    b.add("timeseries", "Telemetry loss", "Spans dropped, export failures by reason, SSE events evicted before replay.",
          [(f'sum(rate(qlik_mcp_telemetry_spans_dropped_total{{{SEL}}}[$__rate_interval]))', "spans dropped"),
           (f'sum by (reason) (rate(qlik_mcp_telemetry_export_failures_total{{{SEL}}}[$__rate_interval]))', "export failed: {{reason}}"),
           (f'sum(rate(qlik_mcp_sse_events_dropped_total{{{SEL}}}[$__rate_interval]))', "SSE events evicted")])
    return b


def engine():
    b = Board("qlik-mcp-engine", "qlik-mcp / Qlik engine", "The Qlik engine as qlik-mcp sees it: reachability, connections and QIX traffic.")
    b.add("stat", "Engine reachable", "qlik_mcp_health_dependency_up for the engine (background check).",
          [(f'qlik_mcp_health_dependency_up{{{SEL}, dependency="qlik_engine"}}', "{{instance}}")], width=6, thresholds=[("red", None), ("green", 1)])
    b.add("stat", "QIX error ratio (5m)", "Share of failed QIX requests.", [(f'qlik_mcp:qix_errors:ratio_rate5m{{{SEL}}}', "{{instance}}")],
          unit="percentunit", width=6, thresholds=red(0.05))
    b.add("timeseries", "Connections", "Open QIX WebSocket connections and connection errors by reason.",
          [(f'sum(qix_connections_active{{{SEL}}})', "open"), (f'sum by (reason) (rate(qix_connection_errors_total{{{SEL}}}[$__rate_interval]))', "errors: {{reason}}")])
    b.add("timeseries", "QIX requests by method", "qix_requests_total rate by method and outcome.",
          [(f'sum by (method, outcome) (rate(qix_requests_total{{{SEL}}}[$__rate_interval]))', "{{method}} {{outcome}}")], unit="reqps")
    b.row("Failure handling (breakers, retries)")
    b.add("timeseries", "Circuit breakers", "qlik_mcp_circuit_breaker_state per breaker: 0 closed, 1 half-open, 2 open.",
          [(f'max by (breaker) (qlik_mcp_circuit_breaker_state{{{SEL}}})', "{{breaker}}")], width=12)
    b.add("timeseries", "Retries and rejections", "Retried attempts by outcome; calls rejected by open breakers; retries refused by the budget.",
          [(f'sum by (outcome) (rate(qlik_mcp_retries_total{{{SEL}}}[$__rate_interval]))', "retry {{outcome}}"),
           (f'sum by (breaker) (rate(qlik_mcp_circuit_breaker_rejections_total{{{SEL}}}[$__rate_interval]))', "rejected: {{breaker}}"),
           (f'sum(rate(qlik_mcp_retry_budget_exhausted_total{{{SEL}}}[$__rate_interval]))', "budget exhausted")], unit="reqps", width=12)
    b.add("timeseries", "Dead letters", "Failed reloads and writes kept for a retry (qlik_mcp_dlq_depth) and new ones by reason.",
          [(f'max(qlik_mcp_dlq_depth{{{SEL}}})', "kept"), (f'sum by (reason) (increase(qlik_mcp_dlq_entries_total{{{SEL}}}[$__rate_interval]))', "new: {{reason}}")], width=24)
    b.add("timeseries", "QIX latency", "Quantiles of qix_request_duration_seconds.", latency_quantiles("qix_request_duration_seconds"), unit="s", links=TRACE_LINK)
    b.row("Limits (rate limits, engine concurrency)")
    b.add("timeseries", "Rate-limited calls", "qlik_mcp_rate_limited_total by limit (principal, tool:<name>, tenant, ip); decisions made locally because Redis could not be asked.",
          [(f'sum by (limit) (rate(qlik_mcp_rate_limited_total{{{SEL}}}[$__rate_interval]))', "{{limit}}"),
           (f'sum(rate(qlik_mcp_rate_limit_fallback_total{{{SEL}}}[$__rate_interval]))', "local fallback")], unit="reqps", width=8)
    b.add("timeseries", "Engine concurrency limit", "qlik_mcp_concurrency_limit: the adaptive limit on concurrent engine calls (AIMD on engine latency).",
          [(f'max by (instance) (qlik_mcp_concurrency_limit{{{SEL}, target="engine"}})', "{{instance}}")], unit="short", width=8)
    b.add("timeseries", "Shed calls", "qlik_mcp_load_shed_total by reason: calls refused as overloaded instead of queueing on a slow engine.",
          [(f'sum by (reason) (rate(qlik_mcp_load_shed_total{{{SEL}}}[$__rate_interval]))', "{{reason}}")], unit="reqps", width=8)
    b.row("Redis (shared state, --state redis)")
    b.add("stat", "Redis reachable", "qlik_mcp_health_dependency_up for Redis (background PING); empty with --state memory.",
          [(f'qlik_mcp_health_dependency_up{{{SEL}, dependency="redis"}}', "{{instance}}")], width=6, thresholds=[("red", None), ("green", 1)])
    b.add("stat", "Redis error ratio (5m)", "Share of Redis commands that failed (timeouts, refused writes, lost connections).",
          [(f'sum(rate(qlik_mcp_redis_commands_total{{{SEL}, outcome!="ok"}}[5m])) / sum(rate(qlik_mcp_redis_commands_total{{{SEL}}}[5m]))', "errors")],
          unit="percentunit", width=6, thresholds=red(0.05))
    b.add("timeseries", "Redis commands", "qlik_mcp_redis_commands_total rate by command (scripts by name) and outcome; pool connections and waiters.",
          [(f'sum by (command, outcome) (rate(qlik_mcp_redis_commands_total{{{SEL}}}[$__rate_interval]))', "{{command}} {{outcome}}"),
           (f'sum(qlik_mcp_redis_pool_connections{{{SEL}}})', "pool connections"), (f'sum(qlik_mcp_redis_pool_waiters{{{SEL}}})', "pool waiters")], unit="short")
    b.add("timeseries", "Redis latency", "Quantiles of qlik_mcp_redis_command_duration_seconds (one round trip per MCP request with --state redis).",
          latency_quantiles("qlik_mcp_redis_command_duration_seconds"), unit="s", links=TRACE_LINK)
    return b


def main():
    OUT.mkdir(exist_ok=True)
    for board in (service_health(), tool_usage(), performance(), errors(), engine()):
        path = OUT / f"{board.uid}.json"
        document = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
        for panel in document["panels"]:
            if panel.get("options") is None and panel["type"] != "row":
                panel["options"] = {}  # the builders leave unset options as null; Grafana expects an object
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path} ({len(board.items)} panels and rows)")


if __name__ == "__main__":
    main()

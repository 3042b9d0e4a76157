"""The operations bundle checked with the tools SREs use: promtool on the rules, the dashboards'
structure, every metric name in dashboards and rules against a real /metrics scrape, and a real
Prometheus server scraping qlik-mcp with the bundled rules while faults are injected."""
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from mcp_server import Server
from test_http_transport import call, initialize

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "alerts" / "qlik-mcp.rules.yml"
DASHBOARDS = sorted((ROOT / "dashboards").glob("*.json"))
PROMQL_WORDS = {
    "sum", "rate", "increase", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "histogram_quantile", "max", "min", "avg", "count", "topk", "bottomk", "changes", "clamp_min", "offset", "bool", "delta",
    "label_values", "label_replace", "le", "inf", "nan",
}


def promtool():
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is missing: install the Debian package `prometheus` (.ci/run does)")
    return path


def test_promtool_checks_and_unit_tests_the_rules():
    check = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run([promtool(), "test", "rules", str(ROOT / "alerts" / "qlik-mcp.test.yml")], capture_output=True, text=True)
    assert unit.returncode == 0, unit.stdout + unit.stderr
    rules = yaml.safe_load(RULES.read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    tested = set(re.findall(r"alertname: (\w+)", (ROOT / "alerts" / "qlik-mcp.test.yml").read_text()))
    runbook = (ROOT / "alerts" / "RUNBOOK.md").read_text().lower()
    for alert in alerts:
        assert alert["alert"] in tested, f"{alert['alert']} has no promtool test"
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        for key in ("summary", "description", "runbook_url"):
            assert alert["annotations"].get(key), (alert["alert"], key)
        anchor = alert["annotations"]["runbook_url"].split("#")[1]
        assert f"## {anchor}" in runbook.replace("## qlikmcp", "## qlikmcp"), f"RUNBOOK.md has no section for #{anchor}"


def expressions():
    """(where, PromQL) for every expression in the dashboards and rules."""
    found = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                found.append((f"{path.name}#{panel['id']}", t["expr"]))
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":  # label_values(<selector>, <label>): the selector names the metric
                text = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
                selector = re.fullmatch(r"label_values\((.*),\s*\w+\)", text).group(1)
                found.append((f"{path.name}${variable['name']}", selector))
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            found.append((f"rules:{rule.get('record') or rule.get('alert')}", rule["expr"]))
    return found


def metric_names(expr):
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)                     # strings
    text = re.sub(r"\{[^}]*\}", "", text)                              # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)                             # ranges
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)  # grouping labels
    text = re.sub(r"\$\w+", "", text)                                  # Grafana variables
    text = re.sub(r"\boffset\s+\d+[smhdwy]\b", "", text)                 # offset durations
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text)) - PROMQL_WORDS
    return {n for n in names if not re.fullmatch(r"e\d*", n)}


def test_dashboards_are_what_the_generator_writes(tmp_path):
    """dashboards/*.json come from scripts/generate-dashboards.py (Grafana's typed builders): no hand edits."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate-dashboards.py"), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    generated = sorted(tmp_path.glob("*.json"))
    assert [p.name for p in generated] == [p.name for p in DASHBOARDS]
    for path in generated:
        assert path.read_text() == (ROOT / "dashboards" / path.name).read_text(), f"{path.name}: rerun scripts/generate-dashboards.py"


def test_dashboards_are_importable_as_is():
    assert len(DASHBOARDS) == 5
    uids = set()
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in uids
        uids.add(board["uid"])
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
        assert {"job", "instance"} <= set(variables)
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        assert any(link.get("tags") == ["qlik-mcp"] for link in board["links"]), f"{path.name}: no links to the other dashboards"
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == "${datasource}", f"{path.name}#{panel['id']}: hard-coded datasource"
            assert panel.get("description"), f"{path.name}#{panel['id']}: no description"
            assert panel["fieldConfig"]["defaults"].get("unit")
            for t in panel["targets"]:
                assert t["datasource"]["uid"] == "${datasource}"
                assert 'job=~"$job"' in t["expr"] or t["expr"].startswith("qlik_mcp:") or "$job" in t["expr"], t["expr"]
    latency_panels = [p for path in DASHBOARDS for p in json.loads(path.read_text())["panels"] if "latency" in p.get("title", "").lower()]
    assert latency_panels and any("links" in p for p in latency_panels), "no trace links on latency panels"


def test_every_metric_name_is_exported_by_the_server(qlik_mcp_bin, tmp_path):
    recorded = {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "record" in r}
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
    # An OTLP endpoint makes the exporter's families exist (the export itself fails, harmlessly).
    with Server(qlik_mcp_bin, env={"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{dead_port}"}) as server:
        session = initialize(server)
        call(server, session, 2, "get_app", {"app_id": "sales-analytics"})
        call(server, session, 3, "get_app", {"app_id": "nope"})
        families = set()
        for name in server.metrics():
            base = name.split("{")[0]
            families.add(base)
            for suffix in ("_bucket", "_sum", "_count"):
                if base.endswith(suffix):
                    families.add(base[: -len(suffix)])
        server.stop()
    # Authentication's families exist (zero-valued) from the start when --auth is on.
    with Server(qlik_mcp_bin, "--port", str(free_port()), "--auth", "apikey", "--apikeys-file", str(tmp_path / "keys.json")) as authed:
        families |= {name.split("{")[0] for name in authed.metrics()}
    # Redis's families exist with --state redis (after a session made some round trips).
    from cluster import Redis
    redis = Redis(tmp_path)
    try:
        with Server(qlik_mcp_bin, "--state", "redis", "--redis-url", redis.url) as shared:
            call(shared, initialize(shared), 2, "list_apps", {})
            for name in shared.metrics():
                base = name.split("{")[0]
                families |= {base} | {base[: -len(s)] for s in ("_bucket", "_sum", "_count") if base.endswith(s)}
            check = subprocess.run([promtool(), "check", "metrics"], input=shared.get("/metrics")[1], capture_output=True, text=True)
            assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    finally:
        redis.stop()
    missing = []
    for where, expr in expressions():
        for name in metric_names(expr):
            if name not in families and name not in recorded and name != "up":
                missing.append(f"{where}: {name}")
    assert not missing, "names not exported by the server:\n" + "\n".join(missing)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_query(port, path, params=None):
    url = f"http://127.0.0.1:{port}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["data"]


def test_live_prometheus_scrapes_records_and_alerts_on_injected_faults(qlik_mcp_bin):
    binary = shutil.which("prometheus")
    if not binary:
        pytest.fail("prometheus is missing: install the Debian package `prometheus` (.ci/run does)")
    env = {"QLIK_MCP_DEMO_ERROR_RATE": "0.5", "QLIK_MCP_DEMO_ERROR_METHODS": "EvaluateEx"}
    # The cache would answer the repeated call after its first success, retries would hide half the
    # injected errors and the breakers would turn the rest into rejections: every call here must
    # reach the engine once, so the alerting pipeline sees the injected 50 %.
    no_shield = ["--cache", "off", "--retry", "attempts=1", "--breaker-engine", "min_calls=1000000", "--breaker-tool", "min_calls=1000000"]
    with Server(qlik_mcp_bin, *no_shield, env=env) as server, tempfile.TemporaryDirectory() as workdir:
        config = Path(workdir) / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "qlik-mcp", "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}]}],
        }))
        port = free_port()
        prometheus = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
                                       f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            session = initialize(server)
            deadline = time.monotonic() + 90
            failures = 0
            state = None
            index = 0
            while time.monotonic() < deadline:
                index += 1
                _, answer = call(server, session, 10 + index, "evaluate_expression", {"app_id": "sales-analytics", "expression": "Sum(Sales)"})
                failures += answer["result"]["isError"]
                if index % 20 == 0:
                    try:
                        alerts = prometheus_query(port, "/api/v1/alerts")["alerts"]
                    except OSError:
                        continue  # Prometheus still starting
                    burning = [a for a in alerts if a["labels"]["alertname"] == "QlikMCPErrorBudgetBurnFast"]
                    if burning:
                        state = burning[0]["state"]
                        break
            assert failures > 0, "fault injection produced no failing tool calls"
            assert state in {"pending", "firing"}, "the error-budget alert never went pending"
            up = prometheus_query(port, "/api/v1/query", {"query": 'up{job="qlik-mcp"}'})["result"]
            assert up and up[0]["value"][1] == "1"
            series = prometheus_query(port, "/api/v1/query", {"query": 'qlik_mcp_tool_calls_total{tool="evaluate_expression"}'})["result"]
            assert {s["metric"]["outcome"] for s in series} == {"ok", "error"}
            ratio = prometheus_query(port, "/api/v1/query", {"query": "qlik_mcp:tool_errors:ratio_rate5m"})["result"]
            assert ratio and 0.1 < float(ratio[0]["value"][1]) < 0.9
        finally:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        assert server.stop() == 0


CHART = ROOT / "deploy" / "helm" / "qlik-mcp"


def render(values):
    import helm_python as helm  # Helm's own Go SDK through ctypes (PyPI helm-python-sdk): a real Helm engine
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name="qmcp", namespace="ops")
    documents = {}
    for name, text in rendered.items():
        for document in yaml.safe_load_all(text):
            if document:
                # The server's own objects by kind; the bundled Redis and demo engine as kind/component.
                component = document["metadata"].get("labels", {}).get("app.kubernetes.io/component")
                documents[f"{document['kind']}/{component}" if component else document["kind"]] = document
    return documents


def test_helm_chart_renders_probes_ports_and_security_context(qlik_mcp_bin, tmp_path):
    default = render({})
    assert set(default) == {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                            "StatefulSet/redis", "Service/redis", "Deployment/demo-engine", "Service/demo-engine"}
    # Several replicas by default, so state is in (the bundled) Redis and the demo engine runs once for all of them.
    container = default["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["QLIK_MCP_STATE"] == "redis" and env["QLIK_MCP_REDIS_URL"] == "redis://qmcp-qlik-mcp-redis:6379/0"
    assert "--demo" not in container["args"] and "ws://qmcp-qlik-mcp-demo-engine:4848" in container["args"]
    assert default["Service/redis"]["spec"]["selector"] != default["Service"]["spec"]["selector"]
    redis_args = default["StatefulSet/redis"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert redis_args[redis_args.index("--maxmemory-policy") + 1] == "noeviction"
    with pytest.raises(Exception):
        render({"state": {"mode": "memory"}})  # several replicas with per-pod state: refused
    single = render({"state": {"mode": "memory"}, "replicaCount": 1, "autoscaling": {"enabled": False}})
    assert "StatefulSet/redis" not in single and "--demo" in single["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    external = render({"state": {"redis": {"bundled": False, "url": "rediss://redis.example.com:6380/2", "existingSecret": {"name": "rp"}}}})
    assert "StatefulSet/redis" not in external
    env = {e["name"]: e for e in external["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["QLIK_MCP_REDIS_URL"]["value"] == "rediss://redis.example.com:6380/2"
    assert env["QLIK_MCP_REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "rp"
    with pytest.raises(Exception):
        render({"state": {"redis": {"url": "redis://:secret@redis:6379/0"}}})  # schema: no password in the URL
    everything = render({"ingress": {"enabled": True, "tlsSecret": "tls"}, "serviceMonitor": {"enabled": True},
                         "prometheusRule": {"enabled": True}, "otlp": {"endpoint": "http://collector:4318"},
                         "engine": {"demo": False, "url": "wss://qlik.example.com", "userDirectory": "CORP", "userID": "svc",
                                    "certificatesSecret": "qlik-certs", "apiKeySecret": {"name": "qlik-key", "key": "api-key"}}})
    assert {"Ingress", "ServiceMonitor", "PrometheusRule"} <= set(everything)
    pod = everything["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["startupProbe"]["httpGet"]["path"] == "/startupz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"][0]["containerPort"] == 8080 and everything["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert pod["terminationGracePeriodSeconds"] > 25  # longer than the drain timeout
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"]["memory"]
    env = {e["name"]: e for e in container["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://collector:4318"
    assert env["QLIK_MCP_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "qlik-key", "key": "api-key"}
    assert any(v.get("secret", {}).get("secretName") == "qlik-certs" for v in pod["volumes"])
    rules = yaml.safe_load((ROOT / "alerts" / "qlik-mcp.rules.yml").read_text())
    assert everything["PrometheusRule"]["spec"] == rules
    assert (CHART / "files" / "qlik-mcp.rules.yml").read_text() == (ROOT / "alerts" / "qlik-mcp.rules.yml").read_text()
    import helm_python as helm
    with helm.Chart.load(str(CHART)) as chart:
        with pytest.raises(Exception):
            chart.validate_schema({"server": {"port": "eighty"}})
    # The rendered config file is one the server accepts.
    config = tmp_path / "qlik-mcp.yaml"
    config.write_text(default["ConfigMap"]["data"]["qlik-mcp.yaml"])
    with Server(qlik_mcp_bin, "--config", str(config), "--host", "127.0.0.1") as server:
        assert server.get("/readyz")[0] == 200
        assert server.stop() == 0


def test_helm_chart_auth(qlik_mcp_bin, tmp_path):
    default = yaml.safe_load(render({})["ConfigMap"]["data"]["qlik-mcp.yaml"])
    assert default["auth"] == {"mode": "none", "insecure_no_auth": True}  # open only with the demo engine
    real = yaml.safe_load(render({"engine": {"demo": False, "url": "wss://qlik.example.com"}})["ConfigMap"]["data"]["qlik-mcp.yaml"])
    assert real["auth"]["insecure_no_auth"] is False
    values = {"auth": {"mode": "oauth+apikey", "publicURL": "https://mcp.example.com", "issuer": "https://id.example.com/realms/qlik",
                       "apiKeysSecret": {"name": "keys"}, "defaultScopes": ["qlik:read"]}}
    documents = render(values)
    config = yaml.safe_load(documents["ConfigMap"]["data"]["qlik-mcp.yaml"])
    assert config["auth"]["apikeys_file"] == "/etc/qlik-mcp/apikeys/apikeys.json" and config["auth"]["default_scopes"] == ["qlik:read"]
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["apikeys"]["mountPath"] == "/etc/qlik-mcp/apikeys" and "subPath" not in mounts["apikeys"]
    assert any(v.get("secret", {}).get("secretName") == "keys" for v in pod["volumes"])
    proxy = {"auth": {"mode": "oauth", "publicURL": "https://mcp.example.com", "provider": "github", "clientID": "abc",
                      "clientSecretSecret": {"name": "gh"}, "signingKeySecret": {"name": "sig"}}}
    with pytest.raises(Exception):
        render({**proxy, "state": {"mode": "memory"}})  # proxy state in memory: more than one replica is refused
    with pytest.raises(Exception):
        render({"auth": {**proxy["auth"], "signingKeySecret": {"name": ""}}})  # replicas must share one signing key
    single = render(proxy)
    config = yaml.safe_load(single["ConfigMap"]["data"]["qlik-mcp.yaml"])
    assert config["auth"]["client_secret_file"] == "/etc/qlik-mcp/oauth-client/client-secret"
    assert config["auth"]["signing_keys"] == ["/etc/qlik-mcp/signing/signing.pem"]
    with pytest.raises(Exception):
        render({"auth": {"mode": "oauth", "publicURL": "https://mcp.example.com/path"}})  # schema: an origin, no path
    # The rendered auth config is one the server accepts (and with the real engine and no auth, one it refuses).
    path = tmp_path / "qlik-mcp.yaml"
    path.write_text(documents["ConfigMap"]["data"]["qlik-mcp.yaml"])
    with Server(qlik_mcp_bin, "--config", str(path), "--host", "127.0.0.1", "--oauth-issuer", "http://127.0.0.1:9") as server:
        status, _ = server.get("/.well-known/oauth-protected-resource/mcp")
        assert status == 200
        assert server.stop() == 0
    refused = tmp_path / "open.yaml"
    refused.write_text(render({"engine": {"demo": False, "url": "ws://127.0.0.1:9"}})["ConfigMap"]["data"]["qlik-mcp.yaml"])
    result = subprocess.run([qlik_mcp_bin, "serve", "--config", str(refused)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "without authentication" in result.stderr


def test_compose_and_dockerfile_reference_what_exists(qlik_mcp_bin):
    compose_dir = ROOT / "deploy" / "compose"
    compose = yaml.safe_load((compose_dir / "docker-compose.yml").read_text())
    assert {"qlik-mcp", "prometheus", "grafana", "jaeger"} <= set(compose["services"])
    build = compose["services"]["qlik-mcp"]["build"]
    assert (compose_dir / build["context"] / build["dockerfile"]).is_file()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (compose_dir / source).exists(), f"{name}: {source} does not exist"
    prometheus = yaml.safe_load((compose_dir / "prometheus.yml").read_text())
    assert prometheus["scrape_configs"][0]["static_configs"][0]["targets"] == ["qlik-mcp:8080"]
    mounted = (compose_dir / "prometheus.yml").read_text().replace("/etc/prometheus/rules/qlik-mcp.rules.yml", str(RULES))
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as copy:  # the rules path as the container mounts it
        copy.write(mounted)
        copy.flush()
        check = subprocess.run([promtool(), "check", "config", copy.name], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2 and "--static-swift-stdlib" in dockerfile
    assert "USER 10001" in dockerfile and "HEALTHCHECK" in dockerfile and "org.opencontainers.image" in dockerfile
    help_text = {command: subprocess.run([qlik_mcp_bin, command, "--help"], capture_output=True, text=True).stdout for command in ("serve", "demo-engine")}
    for flag in re.findall(r'"(--[a-z-]+)"', dockerfile):
        assert flag in help_text["serve"], f"{flag} is not a serve flag"
    for name, service in compose["services"].items():  # every qlik-mcp command uses flags its subcommand has
        if service.get("image") == "qlik-mcp:local":
            command = service["command"]
            for flag in (part for part in command if part.startswith("--")):
                assert flag in help_text[command[0]], f"{name}: {flag} is not a {command[0]} flag"
    # The scale profile: Redis, one engine, three replicas on Redis state, HAProxy round robin over them.
    scale = {name for name, service in compose["services"].items() if "scale" in service.get("profiles", [])}
    assert {"redis", "demo-engine", "replica-1", "replica-2", "replica-3", "haproxy"} <= scale
    assert all(compose["services"][f"replica-{i}"]["environment"]["QLIK_MCP_STATE"] == "redis" for i in (1, 2, 3))
    haproxy_cfg = "\n".join(line for line in (compose_dir / "haproxy.cfg").read_text().splitlines() if not line.lstrip().startswith("#"))
    assert "balance roundrobin" in haproxy_cfg and "cookie" not in haproxy_cfg and "stick" not in haproxy_cfg
    check = subprocess.run(["haproxy", "-c", "-f", str(compose_dir / "haproxy.cfg")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

"""Resource-server mode against an external authorization server (Authlib OIDC provider on
loopback): the attack table for tokens and API keys, each with its exact status and challenge,
Protected Resource Metadata against RFC 9728, and nothing secret in the logs."""
import json
import re
import subprocess
import time

import pytest
from joserfc.jwk import RSAKey
from mcp.shared.auth import ProtectedResourceMetadata

from mcp_server import Server
from oauth_support import INIT, call, challenge, free_port, hs256_with_public_key, http, mcp, open_session, unsigned, assert_not_logged


def create_key(binary, path, name, scopes):
    out = subprocess.run([binary, "apikey", "create", "--apikeys-file", str(path), "--name", name, "--scopes", scopes],
                         check=True, capture_output=True, text=True).stdout
    return re.search(r"qmcp_[A-Za-z0-9_-]+", out).group(0)


@pytest.fixture(scope="module")
def rs(qlik_mcp_bin, provider, tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys") / "apikeys.json"
    api_keys = {"reader": create_key(qlik_mcp_bin, keys, "reader", "qlik:read"),
                "doomed": create_key(qlik_mcp_bin, keys, "doomed", "qlik:read,qlik:data")}
    port = free_port()
    env = {"QLIK_MCP_INTROSPECTION_CLIENT_ID": "rs-client", "QLIK_MCP_INTROSPECTION_CLIENT_SECRET": "rs-secret"}
    with Server(qlik_mcp_bin, "--port", str(port), "--auth", "oauth+apikey", "--oauth-issuer", provider.issuer,
                "--apikeys-file", str(keys), "--oauth-introspection-url", provider.issuer + "/introspect", "--debug-endpoints", env=env) as server:
        server.resource = f"http://127.0.0.1:{port}/mcp"
        server.api_keys = api_keys
        server.keys_file = keys
        server.binary = qlik_mcp_bin
        yield server


def test_protected_resource_metadata(rs, provider):
    for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]:
        status, headers, body = http("GET", rs.base + path)
        assert status == 200 and headers["content-type"].startswith("application/json")
        document = ProtectedResourceMetadata.model_validate_json(body)  # the MCP SDK's RFC 9728 model
        assert str(document.resource) == rs.resource  # RFC 9728 §2: REQUIRED, the resource identifier
        assert [str(s).rstrip("/") for s in document.authorization_servers] == [provider.issuer]
        assert set(document.scopes_supported) == {"qlik:read", "qlik:data", "qlik:write", "qlik:admin"}
        assert document.bearer_methods_supported == ["header"]


def valid(provider, rs, **claims):
    return provider.mint(rs.resource, **claims)


ATTACKS = [
    # name, token builder, expected status, expected error code in the challenge (None: no error attribute)
    ("no token", lambda p, rs: None, 401, None),
    ("malformed header: no token", lambda p, rs: "raw:Bearer", 400, "invalid_request"),
    # Another scheme carries no bearer credentials: RFC 6750 §3.1 wants 401 with the challenge and no error code.
    ("another scheme: Basic", lambda p, rs: "raw:Basic dXNlcjpwYXNz", 401, None),
    ("malformed header: two tokens", lambda p, rs: "raw:Bearer a b", 400, "invalid_request"),
    ("expired", lambda p, rs: valid(p, rs, exp=int(time.time()) - 600, iat=int(time.time()) - 900, nbf=int(time.time()) - 900), 401, "invalid_token"),
    ("not yet valid", lambda p, rs: valid(p, rs, nbf=int(time.time()) + 600), 401, "invalid_token"),
    ("wrong issuer", lambda p, rs: valid(p, rs, iss="https://evil.example"), 401, "invalid_token"),
    ("wrong audience (token for another resource)", lambda p, rs: p.mint("https://other.example/mcp"), 401, "invalid_token"),
    ("no audience", lambda p, rs: valid(p, rs, aud=None), 401, "invalid_token"),
    ("alg=none", lambda p, rs: unsigned({"iss": p.issuer, "sub": "x", "aud": rs.resource, "exp": int(time.time()) + 300, "scope": "qlik:read"},
                                        {"alg": "none", "kid": "test-key-1"}), 401, "invalid_token"),
    ("HS256 signed with the public key", lambda p, rs: hs256_with_public_key(
        {"iss": p.issuer, "sub": "x", "aud": rs.resource, "exp": int(time.time()) + 300, "scope": "qlik:read"},
        p.key.as_pem(private=False)), 401, "invalid_token"),
    ("unknown kid", lambda p, rs: p.mint(rs.resource, key=RSAKey.generate_key(2048, parameters={"kid": "rogue"}, private=True),
                                         header={"kid": "rogue"}), 401, "invalid_token"),
    ("forged signature with the real kid", lambda p, rs: p.mint(rs.resource, key=RSAKey.generate_key(2048, private=True)), 401, "invalid_token"),
    ("garbage token", lambda p, rs: "not-a-token", 401, "invalid_token"),
    ("unknown API key", lambda p, rs: "qmcp_000000000000_" + "A" * 43, 401, "invalid_token"),
]

OUTCOME = {"expired": "expired", "not yet valid": "not_yet_valid", "wrong issuer": "wrong_issuer",
           "wrong audience (token for another resource)": "wrong_audience", "alg=none": "alg_not_allowed",
           "HS256 signed with the public key": "alg_not_allowed", "unknown kid": "unknown_key",
           "forged signature with the real kid": "bad_signature", "unknown API key": "unknown_api_key"}


@pytest.mark.parametrize("name,build,status,error", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_table_tokens(rs, provider, name, build, status, error):
    token = build(provider, rs)
    code, headers, body = mcp(rs.base, INIT, token)
    assert code == status, (name, code, body)
    params = challenge(headers)
    assert params["resource_metadata"] == rs.base + "/.well-known/oauth-protected-resource/mcp"
    assert params["scope"] == "qlik:read qlik:data"
    assert params.get("error") == error
    assert "mcp-session-id" not in headers
    if name in OUTCOME:
        assert rs.metrics().get(f'qlik_mcp_auth_attempts_total{{method="{"apikey" if "API" in name else "oauth"}",outcome="{OUTCOME[name]}"}}', 0) >= 1
    if token and not token.startswith("raw:"):
        assert_not_logged(rs.log, [token])


def test_valid_token_is_accepted_and_scopes_filter_tools(rs, provider):
    token = valid(provider, rs, scope="qlik:read")
    session = open_session(rs.base, token)
    status, _, body = mcp(rs.base, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, token, session)
    names = set(re.findall(r'"name":"([a-z_]+)"', body))
    assert status == 200 and "list_apps" in names and "get_data_model" in names
    assert not names & {"query_data", "evaluate_expression", "reload_app", "list_reload_tasks"}
    status, _, body = call(rs.base, token, session, "list_apps", {})
    assert status == 200 and "sales-analytics" in body
    status, headers, body = call(rs.base, token, session, "no_such_tool", {})
    assert status == 200 and "www-authenticate" not in headers  # an unknown tool is the server's "unknown tool", not a step-up
    assert '"error"' in body or '"isError":true' in body


def test_scope_too_small_gets_step_up(rs, provider):
    token = valid(provider, rs, scope="qlik:read")
    session = open_session(rs.base, token)
    status, headers, body = call(rs.base, token, session, "query_data", {"app_id": "sales-analytics", "measures": ["Sum(Sales)"]})
    assert status == 403, body
    params = challenge(headers)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "qlik:read qlik:data"  # what to ask for: held scopes plus the missing one
    # A token with the missing scope, same user and session: the call goes through and the tool list grows.
    better = valid(provider, rs, scope="qlik:read qlik:data")
    status, _, body = call(rs.base, better, session, "evaluate_expression", {"app_id": "sales-analytics", "expression": "Count(OrderLineID)"})
    assert status == 200 and "120000" in body
    status, _, body = mcp(rs.base, {"jsonrpc": "2.0", "id": 9, "method": "tools/list"}, better, session)
    assert '"query_data"' in body


def test_token_in_query_string_is_refused(rs, provider):
    token = valid(provider, rs)
    status, headers, body = mcp(rs.base, INIT, None, path="/mcp?access_token=" + token)
    assert status == 400 and challenge(headers)["error"] == "invalid_request"
    assert "query" in challenge(headers)["error_description"] or "URL" in challenge(headers)["error_description"]
    assert_not_logged(rs.log, [token])


def test_session_of_another_user(rs, provider):
    alice = valid(provider, rs, sub="alice-0001")
    bob = valid(provider, rs, sub="bob-0002")
    session = open_session(rs.base, alice)
    status, _, body = call(rs.base, bob, session, "list_apps", {})
    assert status == 404, body  # answered like an unknown session: no oracle for other users' ids
    status, _, _ = call(rs.base, alice, session, "list_apps", {})
    assert status == 200
    status, _, _ = http("DELETE", rs.base + "/mcp", headers={"Authorization": f"Bearer {bob}", "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
    assert status == 404
    key = rs.api_keys["reader"]
    status, _, _ = call(rs.base, key, session, "list_apps", {})
    assert status == 404


def test_api_keys_and_revocation(rs):
    key = rs.api_keys["doomed"]
    session = open_session(rs.base, key)
    status, _, body = call(rs.base, key, session, "evaluate_expression", {"app_id": "sales-analytics", "expression": "Count(OrderLineID)"})
    assert status == 200 and "120000" in body
    subprocess.run([rs.binary, "apikey", "revoke", "doomed", "--apikeys-file", str(rs.keys_file)], check=True, capture_output=True)
    status, headers, body = call(rs.base, key, session, "list_apps", {})
    assert status == 401, body
    assert challenge(headers)["error"] == "invalid_token" and "revoked" in challenge(headers)["error_description"]
    assert rs.metrics()['qlik_mcp_auth_attempts_total{method="apikey",outcome="revoked"}'] >= 1
    reader = rs.api_keys["reader"]
    s2 = open_session(rs.base, reader)
    status, headers, _ = call(rs.base, reader, s2, "query_data", {"app_id": "sales-analytics", "measures": ["Sum(Sales)"]})
    assert status == 403 and challenge(headers)["error"] == "insufficient_scope"
    assert_not_logged(rs.log, list(rs.api_keys.values()))


def test_legacy_sse_needs_auth(rs, provider):
    status, headers, _ = http("GET", rs.base + "/sse")
    assert status == 401 and "resource_metadata" in challenge(headers)
    status, headers, _ = http("POST", rs.base + "/messages?sessionId=x", body={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert status == 401


def test_probes_and_metadata_stay_open(rs):
    assert http("GET", rs.base + "/readyz")[0] == 200
    assert http("GET", rs.base + "/metrics")[0] == 200


def test_audit_lines_name_no_one(rs, provider):
    token = valid(provider, rs, sub="carol-secret-subject", email="carol@example.test", scope="qlik:read")
    session = open_session(rs.base, token)
    call(rs.base, token, session, "query_data", {"app_id": "sales-analytics", "measures": ["Sum(Sales)"]})
    audit = [line for line in rs.log if '"qlik-mcp.audit"' in line]
    assert any('"qlik_mcp.auth.reason":"insufficient_scope"' in line for line in audit), audit[-3:]
    assert_not_logged(rs.log, ["carol-secret-subject", "carol@example.test", token])


def test_opaque_tokens_by_introspection(rs, provider):
    now = int(time.time())
    provider.opaque["opaque-good-0001"] = {"active": True, "sub": "dave-0004", "aud": rs.resource, "scope": "qlik:read", "exp": now + 300,
                                           "iss": provider.issuer, "client_id": "svc"}
    provider.opaque["opaque-other-0002"] = {"active": True, "sub": "erin-0005", "aud": "https://other.example/mcp", "scope": "qlik:read", "exp": now + 300}
    before = provider.introspections
    session = open_session(rs.base, "opaque-good-0001")
    status, _, body = call(rs.base, "opaque-good-0001", session, "list_apps", {})
    assert status == 200 and "sales-analytics" in body
    assert provider.introspections - before == 1  # the answer is cached (≤ 60 s): one introspection for three requests
    for token, reason in [("opaque-other-0002", "wrong_audience"), ("opaque-unknown-0003", "inactive")]:
        status, headers, _ = mcp(rs.base, INIT, token)
        assert status == 401 and challenge(headers)["error"] == "invalid_token"
        assert rs.metrics()[f'qlik_mcp_auth_attempts_total{{method="oauth",outcome="{reason}"}}'] >= 1
    assert_not_logged(rs.log, ["opaque-good-0001", "opaque-other-0002"])


def test_tool_spans_carry_a_pseudonym_not_the_user(rs, provider):
    token = valid(provider, rs, sub="frank-0006", scope="qlik:read")
    session = open_session(rs.base, token)
    assert call(rs.base, token, session, "list_apps", {})[0] == 200
    deadline = time.monotonic() + 30
    while True:  # spans reach the ring buffer with the batch processor's next batch (≤ 5 s)
        status, body = rs.get("/debug/traces")
        spans = [s for s in json.loads(body)["spans"] if s["name"] == "tools/call list_apps" and "enduser.pseudo.id" in s["attributes"]]
        if spans:
            break
        assert time.monotonic() < deadline, "no tools/call span with enduser.pseudo.id reached /debug/traces"
        time.sleep(0.2)
    assert status == 200 and all(len(s["attributes"]["enduser.pseudo.id"]) == 16 for s in spans)
    assert "frank-0006" not in body
    validations = [s for s in json.loads(body)["spans"] if s["name"] == "auth.validate_token"]
    assert {s["attributes"]["auth.outcome"] for s in validations} >= {"ok", "expired"}


def test_no_auth_on_a_public_address_is_refused(qlik_mcp_bin):
    result = subprocess.run([qlik_mcp_bin, "serve", "--demo", "--transport", "http", "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--insecure-no-auth" in result.stderr


def test_official_sdk_over_legacy_sse_and_streamable_http_with_an_api_key(rs):
    """The Python MCP SDK's own transports carrying a bearer credential: the tool list follows its scopes."""
    import anyio
    from mcp import ClientSession
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client
    import httpx2

    key = rs.api_keys["reader"]

    async def main():
        async with sse_client(rs.base + "/sse", headers={"Authorization": f"Bearer {key}"}) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                legacy = {tool.name for tool in (await session.list_tools()).tools}
                apps = await session.call_tool("list_apps", {})
                assert not apps.is_error
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            async with streamable_http_client(rs.resource, http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    streamable = {tool.name for tool in (await session.list_tools()).tools}
        return legacy, streamable

    legacy, streamable = anyio.run(main)
    assert legacy == streamable and "list_apps" in legacy and "query_data" not in legacy

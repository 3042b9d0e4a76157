"""Proxy mode: qlik-mcp is the authorization server its MCP clients see and signs users in at an
upstream OpenID Connect provider (Authlib, loopback). The official Python MCP SDK's OAuth client
completes discovery → dynamic registration → PKCE authorization → token → tool calls, including
a scope step-up; then the authorization-server rows of the attack table."""
import base64
import hashlib
import json
import secrets
import subprocess

import anyio
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata, OAuthMetadata

from mcp_server import Server
from oauth_support import INIT, Browser, assert_not_logged, call, challenge, free_port, http, mcp, open_session
from oidc_provider import ALICE

UPSTREAM_SECRET = "upstream-secret-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def proxy(qlik_mcp_bin, provider, tmp_path_factory):
    key = tmp_path_factory.mktemp("signing") / "signing.pem"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)], check=True, capture_output=True)
    port = free_port()
    provider.register("qlik-mcp-upstream", UPSTREAM_SECRET, f"http://127.0.0.1:{port}/oauth/callback")
    env = {"QLIK_MCP_OAUTH_CLIENT_ID": "qlik-mcp-upstream", "QLIK_MCP_OAUTH_CLIENT_SECRET": UPSTREAM_SECRET}
    with Server(qlik_mcp_bin, "--port", str(port), "--auth", "oauth", "--oauth-provider", "oidc", "--oauth-provider-url", provider.issuer,
                "--oauth-default-scopes", "qlik:read", "--oauth-signing-key", str(key),
                "--rate-limit-ip", "off",  # these tests register and sign in dozens of times from one address (limits: test_limits.py)
                env=env) as server:
        server.issuer = server.base + "/oauth"
        server.resource = server.base + "/mcp"
        yield server


class MemoryStorage:
    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_python_sdk_oauth_flow_with_step_up(proxy, provider):
    browser = Browser()
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    answer = {}

    async def redirect_handler(url):
        answer.clear()
        answer.update(await anyio.to_thread.run_sync(browser.approve, url, redirect_uri))

    async def callback_handler():
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    storage = MemoryStorage()
    metadata = OAuthClientMetadata(client_name="pytest MCP client", redirect_uris=[redirect_uri], grant_types=["authorization_code", "refresh_token"],
                                   response_types=["code"], token_endpoint_auth_method="none")
    auth = OAuthClientProvider(server_url=proxy.resource, client_metadata=metadata, storage=storage,
                               redirect_handler=redirect_handler, callback_handler=callback_handler)
    logins_before = provider.logins

    async def main():
        async with httpx2.AsyncClient(auth=auth, timeout=30) as client:
            async with streamable_http_client(proxy.resource, http_client=client) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    tools = {tool.name for tool in (await session.list_tools()).tools}
                    assert "list_apps" in tools and "get_data_model" in tools
                    assert "evaluate_expression" not in tools  # qlik:read only, the server's default
                    apps = await session.call_tool("list_apps", {})
                    assert not apps.is_error
                    assert {a["id"] for a in apps.structured_content["apps"]} == {"sales-analytics", "hr-insights"}
                    first = storage.tokens.access_token
                    # A qlik:data tool: 403 insufficient_scope → the SDK signs in again for read+data and retries.
                    count = await session.call_tool("evaluate_expression", {"app_id": "sales-analytics", "expression": "Count(OrderLineID)"})
                    assert not count.is_error and count.structured_content["number"] == 120000
                    assert storage.tokens.access_token != first
                    tools = {tool.name for tool in (await session.list_tools()).tools}
                    assert "evaluate_expression" in tools
    anyio.run(main)

    assert provider.logins - logins_before == 2  # two upstream sign-ins: the first grant and the step-up
    assert len(browser.pages) == 2
    assert "pytest MCP client" in browser.pages[0] and "qlik:read" in browser.pages[0] and "qlik:data" not in browser.pages[0]
    assert "qlik:data" in browser.pages[1]
    token = claims(storage.tokens.access_token)
    assert token["iss"] == proxy.issuer and token["aud"] == proxy.resource
    assert token["sub"] == "oidc|" + ALICE["sub"] and token["preferred_username"] == "alice"
    assert set(token["scope"].split()) == {"qlik:read", "qlik:data"}
    assert token["exp"] - token["iat"] == 600
    assert storage.tokens.refresh_token
    metrics = proxy.metrics()
    assert metrics['qlik_mcp_auth_attempts_total{method="oauth",outcome="ok"}'] >= 4
    assert metrics['qlik_mcp_auth_attempts_total{method="oauth",outcome="insufficient_scope"}'] >= 1
    assert_not_logged(proxy.log, [storage.tokens.access_token, storage.tokens.refresh_token, UPSTREAM_SECRET, ALICE["email"], answer["code"]])
    audit = [line for line in proxy.log if '"qlik-mcp.audit"' in line]
    assert any('"event.name":"authorization_code"' in line for line in audit) and any('"event.name":"consent"' in line for line in audit)


def test_authorization_server_metadata(proxy):
    for path in ["/.well-known/oauth-authorization-server/oauth", "/.well-known/oauth-authorization-server"]:
        status, headers, body = http("GET", proxy.base + path)
        assert status == 200
        document = OAuthMetadata.model_validate_json(body)  # the MCP SDK's RFC 8414 model
        raw = json.loads(body)
        # RFC 8414 §2 required: issuer, authorization_endpoint, token_endpoint, response_types_supported; §3.3 issuer = the URL asked.
        assert raw["issuer"] == proxy.issuer
        assert raw["authorization_endpoint"] == proxy.issuer + "/authorize" and raw["token_endpoint"] == proxy.issuer + "/token"
        assert raw["response_types_supported"] == ["code"]
        assert document.code_challenge_methods_supported == ["S256"]
        assert raw["registration_endpoint"] == proxy.issuer + "/register"
    status, _, body = http("GET", proxy.base + "/.well-known/oauth-protected-resource/mcp")
    assert json.loads(body)["authorization_servers"] == [proxy.issuer]
    status, _, body = http("GET", proxy.issuer + "/jwks")
    keys = json.loads(body)["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and keys[0]["alg"] == "ES256" and "d" not in keys[0]


def register(proxy, redirect_uris, **extra):
    return http("POST", proxy.issuer + "/register", body={"redirect_uris": redirect_uris, "client_name": "raw client", **extra})


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge_ = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge_


def authorize_url(proxy, client_id, redirect_uri, challenge_, **extra):
    from urllib.parse import urlencode
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": "st-1", "code_challenge": challenge_,
             "code_challenge_method": "S256", "scope": "qlik:read", "resource": proxy.resource, **extra}
    return proxy.issuer + "/authorize?" + urlencode(query)


def login(proxy, client_id, redirect_uri):
    verifier, challenge_ = pkce()
    answer = Browser().approve(authorize_url(proxy, client_id, redirect_uri, challenge_), redirect_uri)
    assert answer["state"] == "st-1" and answer["iss"] == proxy.issuer
    return answer["code"], verifier


def exchange(proxy, client_id, redirect_uri, code, verifier):
    return http("POST", proxy.issuer + "/token", form={"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                                                       "redirect_uri": redirect_uri, "client_id": client_id, "resource": proxy.resource})


def refresh(proxy, client_id, token):
    return http("POST", proxy.issuer + "/token", form={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id})


@pytest.fixture(scope="module")
def client(proxy):
    redirect_uri = f"http://127.0.0.1:{free_port()}/cb"
    status, _, body = register(proxy, [redirect_uri])
    assert status == 201, body
    return json.loads(body)["client_id"], redirect_uri


@pytest.mark.parametrize("uri,ok", [("https://app.example/cb", True), ("http://127.0.0.1:9999/cb", True), ("http://[::1]/cb", True),
                                    ("http://app.example/cb", False), ("javascript:alert(1)", False), ("https://app.example/cb#frag", False),
                                    ("data:text/html,hi", False), ("not a url", False)])
def test_registration_redirect_rules(proxy, uri, ok):
    status, _, body = register(proxy, [uri])
    assert status == (201 if ok else 400), body
    if not ok:
        assert json.loads(body)["error"] == "invalid_redirect_uri"


def test_redirect_uri_not_registered(proxy, client):
    client_id, _ = client
    _, challenge_ = pkce()
    status, headers, body = http("GET", authorize_url(proxy, client_id, "https://attacker.example/steal", challenge_))
    assert status == 400 and "location" not in headers  # shown to the user, never sent to the unregistered URI
    assert "not one this application registered" in body


def test_authorize_requires_pkce_and_right_resource(proxy, client):
    client_id, redirect_uri = client
    from urllib.parse import parse_qs, urlsplit
    status, headers, _ = http("GET", authorize_url(proxy, client_id, redirect_uri, "x", code_challenge_method="plain"))
    assert status == 302 and parse_qs(urlsplit(headers["location"]).query)["error"] == ["invalid_request"]
    _, challenge_ = pkce()
    status, headers, _ = http("GET", authorize_url(proxy, client_id, redirect_uri, challenge_, resource="https://other.example/mcp"))
    assert status == 302 and parse_qs(urlsplit(headers["location"]).query)["error"] == ["invalid_target"]
    status, headers, _ = http("GET", authorize_url(proxy, "mcp_unknown", redirect_uri, challenge_))
    assert status == 400 and "location" not in headers


def test_consent_deny_and_foreign_browser(proxy, client):
    client_id, redirect_uri = client
    _, challenge_ = pkce()
    answer = Browser().approve(authorize_url(proxy, client_id, redirect_uri, challenge_), redirect_uri, decision="deny")
    assert answer["error"] == "access_denied" and answer["state"] == "st-1"
    # The decision must come from the browser that was shown the page (login CSRF).
    victim, attacker = Browser(), Browser()
    page = victim.consent_page(authorize_url(proxy, client_id, redirect_uri, challenge_))
    import re
    transaction = re.search(r'name="transaction" value="([^"]+)"', page.text).group(1)
    forged = attacker.client.post(proxy.issuer + "/consent", data={"transaction": transaction, "decision": "approve"})
    assert forged.status_code == 400 and "location" not in forged.headers


def test_pkce_verifier_mismatch(proxy, client):
    client_id, redirect_uri = client
    code, _ = login(proxy, client_id, redirect_uri)
    status, _, body = exchange(proxy, client_id, redirect_uri, code, secrets.token_urlsafe(48))
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    assert_not_logged(proxy.log, [code])


def test_authorization_code_replay_revokes_its_tokens(proxy, client):
    client_id, redirect_uri = client
    code, verifier = login(proxy, client_id, redirect_uri)
    status, _, body = exchange(proxy, client_id, redirect_uri, code, verifier)
    assert status == 200, body
    tokens = json.loads(body)
    session = open_session(proxy.base, tokens["access_token"])
    status, _, body = exchange(proxy, client_id, redirect_uri, code, verifier)
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    status, headers, _ = call(proxy.base, tokens["access_token"], session, "list_apps", {})
    assert status == 401 and challenge(headers)["error"] == "invalid_token"
    status, _, body = refresh(proxy, client_id, tokens["refresh_token"])
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"


def test_refresh_token_reuse_after_rotation(proxy, client):
    client_id, redirect_uri = client
    code, verifier = login(proxy, client_id, redirect_uri)
    first = json.loads(exchange(proxy, client_id, redirect_uri, code, verifier)[2])
    status, _, body = refresh(proxy, client_id, first["refresh_token"])
    assert status == 200, body
    second = json.loads(body)
    assert second["refresh_token"] != first["refresh_token"]
    assert open_session(proxy.base, second["access_token"])
    status, _, body = refresh(proxy, client_id, first["refresh_token"])  # the rotated-out token, presented again
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    status, _, body = refresh(proxy, client_id, second["refresh_token"])  # the whole family is revoked
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"
    status, headers, _ = mcp(proxy.base, INIT, second["access_token"])
    assert status == 401 and "revoked" in challenge(headers)["error_description"]
    assert_not_logged(proxy.log, [first["refresh_token"], second["refresh_token"], first["access_token"]])


def test_token_endpoint_refusals(proxy, client):
    client_id, redirect_uri = client
    status, _, body = http("POST", proxy.issuer + "/token", form={"grant_type": "password", "client_id": client_id, "username": "a", "password": "b"})
    assert status == 400 and json.loads(body)["error"] == "unsupported_grant_type"
    status, _, body = http("POST", proxy.issuer + "/token", form={"grant_type": "authorization_code", "client_id": "mcp_nobody", "code": "x",
                                                                  "code_verifier": "y" * 43, "redirect_uri": redirect_uri})
    assert status == 401 and json.loads(body)["error"] == "invalid_client"
    status, _, body = exchange(proxy, client_id, redirect_uri, "never-issued", "v" * 43)
    assert status == 400 and json.loads(body)["error"] == "invalid_grant"


@pytest.mark.parametrize("preset,scope,subject,username", [("github", "read:user", "github|4242", "alice"),
                                                           ("qlik-cloud", "user_default", "qlik-cloud|qlik-user-7", "auth0|alice-0001")])
def test_oauth2_presets_against_stand_ins(qlik_mcp_bin, provider, preset, scope, subject, username):
    """github (GitHub Enterprise Server URL form) and qlik-cloud: OAuth 2.0 without id_token, the identity read from the user API."""
    port = free_port()
    secret = "secret-" + secrets.token_hex(6)
    provider.register(preset + "-app", secret, f"http://127.0.0.1:{port}/oauth/callback", scope=scope)
    env = {"QLIK_MCP_OAUTH_CLIENT_ID": preset + "-app", "QLIK_MCP_OAUTH_CLIENT_SECRET": secret}
    with Server(qlik_mcp_bin, "--port", str(port), "--auth", "oauth", "--oauth-provider", preset, "--oauth-provider-url", provider.issuer,
                "--rate-limit-ip", "off", env=env) as server:
        server.issuer, server.resource = server.base + "/oauth", server.base + "/mcp"
        redirect_uri = f"http://127.0.0.1:{free_port()}/cb"
        client_id = json.loads(register(server, [redirect_uri])[2])["client_id"]
        code, verifier = login(server, client_id, redirect_uri)
        status, _, body = exchange(server, client_id, redirect_uri, code, verifier)
        assert status == 200, body
        token = json.loads(body)["access_token"]
        assert claims(token)["sub"] == subject
        assert claims(token).get("preferred_username") == username
        session = open_session(server.base, token)
        status, _, body = call(server.base, token, session, "list_apps", {})
        assert status == 200 and "sales-analytics" in body
        assert_not_logged(server.log, [token, secret, ALICE["email"]])

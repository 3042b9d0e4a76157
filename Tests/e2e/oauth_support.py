"""Helpers for the OAuth end-to-end tests: raw HTTP calls to the MCP endpoint, a browser that
walks the consent and upstream sign-in, forged tokens, and log checks."""
import base64
import hashlib
import hmac
import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

import httpx2

PROTOCOL = "2025-11-25"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "attack-table", "version": "1"}}}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(method, url, body=None, headers=None, form=None):
    """(status, headers dict with lower-case names, body text); never follows redirects."""
    data = None
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=15) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def mcp(base, message, token=None, session=None, path="/mcp", extra=None):
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": PROTOCOL}
    if token is not None:
        # "raw:<value>" sends the header value as it is (malformed headers); anything else is a bearer token.
        headers["Authorization"] = token[4:] if token.startswith("raw:") else f"Bearer {token}"
    if session:
        headers["Mcp-Session-Id"] = session
    headers.update(extra or {})
    return http("POST", base + path, body=message, headers=headers)


def open_session(base, token):
    status, headers, body = mcp(base, INIT, token)
    assert status == 200, (status, body)
    session = headers["mcp-session-id"]
    mcp(base, {"jsonrpc": "2.0", "method": "notifications/initialized"}, token, session)
    return session


def call(base, token, session, name, arguments, id=7):
    return mcp(base, {"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}, token, session)


def challenge(headers):
    """The parameters of a WWW-Authenticate: Bearer challenge."""
    value = headers.get("www-authenticate", "")
    assert value.startswith("Bearer "), value
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', value))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims, header):
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(claims, public_pem):
    """The classic key-confusion forgery: HMAC-SHA256 keyed with the RSA public key's PEM."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


class Browser:
    """The user's browser during sign-in: consent page → approve → upstream → back to the client's
    redirect URI, whose query it returns. Cookies persist like a browser's."""

    def __init__(self):
        self.client = httpx2.Client(follow_redirects=False, timeout=15)
        self.pages = []

    def consent_page(self, url):
        page = self.client.get(url)
        self.pages.append(page.text)
        return page

    def approve(self, authorize_url, redirect_uri, decision="approve"):
        page = self.consent_page(authorize_url)
        assert page.status_code == 200, page.text
        transaction = re.search(r'name="transaction" value="([^"]+)"', page.text).group(1)
        response = self.client.post(urllib.parse.urljoin(authorize_url, "consent"), data={"transaction": transaction, "decision": decision})
        for _ in range(5):  # qlik-mcp → upstream authorize → qlik-mcp callback → the client's redirect URI
            assert response.status_code == 302, (response.status_code, response.text)
            location = response.headers["location"]
            if location.startswith(redirect_uri):
                return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
            response = self.client.get(location)
        raise AssertionError("too many redirects")


def assert_not_logged(log_lines, secrets):
    text = "".join(log_lines)
    for secret in secrets:
        if secret:
            assert secret not in text, f"a secret appears in the server log: {secret[:12]}…"

"""An OpenID Connect provider for the OAuth tests, built with Authlib (Flask integration) and
served on loopback in a thread: discovery, JWKS, authorization code + PKCE + nonce, id_tokens.

It plays two roles: the upstream identity provider of qlik-mcp's authorization-server proxy
(users are signed in automatically as ALICE — the browser part of a real login is not what is
under test), and the external authorization server of resource-server mode, whose RSA key the
tests also use to mint access tokens with chosen claims (`mint`)."""
import secrets
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from werkzeug.serving import make_server

ALICE = {"sub": "alice-0001", "preferred_username": "alice", "email": "alice@example.test", "name": "Alice Example"}


class Client:
    def __init__(self, client_id, secret, redirect_uris, scope="openid profile email"):
        self.client_id, self.secret, self.redirect_uris, self.scope = client_id, secret, redirect_uris, scope

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in self.scope.split())

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


class Code:
    def __init__(self, code, client_id, redirect_uri, scope, challenge, method, nonce):
        self.code, self.client_id, self.redirect_uri, self.scope = code, client_id, redirect_uri, scope
        self.code_challenge, self.code_challenge_method, self.nonce = challenge, method, nonce
        self.auth_time = int(time.time())

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class OIDCProvider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"}, private=True)
        self.clients = {}
        self.codes = {}
        self.tokens = {}
        self.opaque = {}  # opaque access token -> its introspection answer
        self.introspections = 0
        self.logins = 0
        app = Flask("oidc-test-provider")
        self.app = app
        self.http = make_server("127.0.0.1", 0, app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.http.server_port}"
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):
                provider.codes[code] = Code(code, req.client.client_id, req.payload.redirect_uri, req.payload.scope,
                                            req.payload.data.get("code_challenge"), req.payload.data.get("code_challenge_method"),
                                            req.payload.data.get("nonce"))

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return ALICE

        class IDToken(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return False

            def resolve_client_private_key(self, client):
                return provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_client_claims(self, client):
                return {"iss": provider.issuer, "aud": [client.client_id], "exp": int(time.time()) + 600}

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def generate_user_info(self, user, scope):
                return UserInfo(sub=user["sub"], preferred_username=user["preferred_username"], email=user["email"], name=user["name"])

        server = AuthorizationServer(app, query_client=self.clients.get, save_token=lambda token, req: self.tokens.__setitem__(token["access_token"], ALICE))
        server.register_grant(CodeGrant, [CodeChallenge(required=True), IDToken(require_nonce=True)])

        def metadata():
            return jsonify({
                "issuer": provider.issuer, "authorization_endpoint": provider.issuer + "/authorize",
                "token_endpoint": provider.issuer + "/token", "jwks_uri": provider.issuer + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            })

        app.add_url_rule("/.well-known/openid-configuration", "oidc", metadata)
        app.add_url_rule("/.well-known/oauth-authorization-server", "oauth", metadata)
        app.add_url_rule("/jwks", "jwks", lambda: jsonify({"keys": [provider.key.as_dict(private=False)]}))

        def authorize():
            provider.logins += 1
            return server.create_authorization_response(grant_user=ALICE)

        def token():
            return server.create_token_response()

        def bearer_user():
            header = request.headers.get("Authorization", "")
            return provider.tokens.get(header[7:]) if header.startswith("Bearer ") else None

        def github_user():  # GitHub Enterprise Server's REST API shape
            user = bearer_user()
            if not user:
                return jsonify({"message": "Bad credentials"}), 401
            return jsonify({"id": 4242, "login": user["preferred_username"], "email": None, "name": user["name"]})

        def qlik_cloud_user():  # Qlik Cloud's /api/v1/users/me shape
            user = bearer_user()
            if not user:
                return jsonify({"errors": [{"title": "Unauthorized"}]}), 401
            return jsonify({"id": "qlik-user-7", "subject": "auth0|" + user["sub"], "email": user["email"], "name": user["name"]})

        # OpenID Connect, GitHub (Enterprise Server paths) and Qlik Cloud shaped endpoints over one Authlib server.
        for prefix, authorize_path, token_path in [("oidc", "/authorize", "/token"), ("gh", "/login/oauth/authorize", "/login/oauth/access_token"),
                                                   ("qcs", "/oauth/authorize", "/oauth/token")]:
            app.add_url_rule(authorize_path, prefix + "_authorize", authorize)
            app.add_url_rule(token_path, prefix + "_token", token, methods=["POST"])
        def introspect():  # RFC 7662, for the opaque tokens `opaque` holds; client authentication required
            if request.authorization is None or (request.authorization.username, request.authorization.password) != ("rs-client", "rs-secret"):
                return jsonify({"error": "invalid_client"}), 401
            provider.introspections += 1
            return jsonify(provider.opaque.get(request.form.get("token", ""), {"active": False}))

        app.add_url_rule("/introspect", "introspect", introspect, methods=["POST"])
        app.add_url_rule("/api/v3/user", "gh_user", github_user)
        app.add_url_rule("/api/v1/users/me", "qcs_user", qlik_cloud_user)

        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def register(self, client_id, secret, redirect_uri, scope="openid profile email"):
        self.clients[client_id] = Client(client_id, secret, [redirect_uri], scope)

    def mint(self, audience, scope="qlik:read qlik:data", key=None, header=None, **claims):
        """An access token signed with the provider's key (or `key`), with these claims over the defaults."""
        now = int(time.time())
        body = {"iss": self.issuer, "sub": "bob-0002", "aud": audience, "iat": now, "nbf": now, "exp": now + 300, "scope": scope,
                "client_id": "ci-client", "preferred_username": "bob"}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        head = {"alg": "RS256", "kid": self.key.kid, "typ": "at+jwt"}
        head.update(header or {})
        return jwt.encode(head, body, key or self.key, algorithms=[head["alg"]])

    def stop(self):
        self.http.shutdown()

"""Shared fixtures: the qlik-mcp binary built by `swift build`."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def log_schema_of_every_server():
    """After the whole run: every log line of every server the tests started follows the schema."""
    import log_schema
    yield
    bad = [(source, line, found) for source, line in log_schema.COLLECTED if (found := log_schema.problems(line))]
    # (Empty when only tests that start no server ran.)
    assert not bad, "log lines off the schema:\n" + "\n".join(f"{source}: {found}: {line[:300]}" for source, line, found in bad[:20])


@pytest.fixture(scope="module")
def provider():
    """The Authlib OpenID provider on loopback (oidc_provider.py), one per test module."""
    from oidc_provider import OIDCProvider
    started = OIDCProvider()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def qlik_mcp_bin() -> str:
    explicit = os.environ.get("QLIK_MCP_BIN")
    if explicit:
        return explicit
    bin_dir = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    path = Path(bin_dir) / "qlik-mcp"
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `swift build` first")
    return str(path)


def pytest_configure(config):
    # Authlib (the test identity provider) warns about its own next major version from inside its hooks.
    config.addinivalue_line("filterwarnings", "ignore:The 'grant' parameter will become mandatory")

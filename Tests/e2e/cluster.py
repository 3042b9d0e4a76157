"""A cluster on loopback for the scale-out tests: a real redis-server, the demo engine as its own
process, N `qlik-mcp serve --state redis` replicas, and HAProxy balancing round robin over them
without stickiness (as the compose `scale` profile does)."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from demo_engine import DemoEngineProcess
from mcp_server import Server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout=30, what="condition"):
    """Polls `predicate` (a state check, not a sleep used as synchronisation)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Redis:
    """redis-server on a free loopback port, with an append-only file so a restart keeps the data."""

    def __init__(self, directory, port=None):
        self.directory = directory
        self.port = port or free_port()
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.directory), "--maxmemory", "256mb", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping, what="redis-server to answer")

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, check=True).stdout

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


class HAProxy:
    def __init__(self, directory, backends, port=None):
        self.port = port or free_port()
        self.stats_port = free_port()
        servers = "\n".join(
            f"    server r{index} 127.0.0.1:{port} check inter 300 fall 1 rise 2" for index, port in enumerate(backends))
        config = f"""
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
frontend mcp
    bind 127.0.0.1:{self.port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-response set-header X-Served-By %s
{servers}
"""
        self.config = Path(directory) / "haproxy.cfg"
        self.config.write_text(config)
        self.process = subprocess.Popen(["haproxy", "-db", "-f", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(self._listening, what="haproxy to listen")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class Cluster:
    def __init__(self, binary, replicas=3, extra_args=(), engine_args=("--order-lines", "5000"), env=None, haproxy_port=None):
        self.binary = binary
        self.directory = Path(tempfile.mkdtemp(prefix="qlik-mcp-cluster-"))
        self.redis = Redis(self.directory)
        self.engine = DemoEngineProcess(binary, extra_args=list(engine_args))
        self.extra_args = list(extra_args)
        self.env = env or {}
        self.ports = [free_port() for _ in range(replicas)]
        self.replicas = [self.start_replica(index) for index in range(replicas)]
        self.haproxy = HAProxy(self.directory, [replica.port for replica in self.replicas], port=haproxy_port)
        wait_until(lambda: all(self.served_by_all()), what="haproxy to see every replica up")

    def start_replica(self, index):
        """Replica `index`, always on the same port (HAProxy's configuration names it)."""
        return Server(self.binary, "--port", str(self.ports[index]), "--engine", f"ws://127.0.0.1:{self.engine.port}", "--state", "redis",
                      "--redis-url", self.redis.url, *self.extra_args, env=self.env, demo=False)

    def served_by_all(self):
        return [self._ready(replica) for replica in self.replicas]

    @staticmethod
    def _ready(replica):
        try:
            with urllib.request.urlopen(replica.base + "/readyz", timeout=2) as response:
                return response.status == 200
        except Exception:
            return False

    def tool_calls(self, tool):
        """Calls of `tool` each replica answered (from its /metrics)."""
        counts = []
        for replica in self.replicas:
            if replica.process.poll() is not None:
                counts.append(0)
                continue
            metrics = replica.metrics()
            counts.append(sum(value for name, value in metrics.items()
                              if name.startswith("mcp_server_operation_duration_seconds_count") and f'gen_ai_tool_name="{tool}"' in name))
        return counts

    def close(self):
        self.haproxy.stop()
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.stop()
        self.engine.stop()
        self.redis.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.haproxy.stop()
        for replica in self.replicas:
            replica.__exit__()
        self.engine.stop()
        self.redis.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

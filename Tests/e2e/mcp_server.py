"""Starts `qlik-mcp serve --transport http` on a free port and stops it with SIGTERM."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import log_schema


class Server:
    def __init__(self, binary, *args, env=None, demo=True, check_logs=True):
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        full_env.update(env or {})
        self.process = subprocess.Popen(
            [binary, "serve", *(["--demo"] if demo else []), "--transport", "http", "--port", "0", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, text=True)
        self.log = []
        self.port = None
        ready = threading.Event()

        def read_stderr():
            for line in self.process.stderr:
                self.log.append(line)
                if check_logs:  # schema checks cost the reader time; a load test turns them off
                    log_schema.collect("serve " + " ".join(args), line)
                if self.port is None and '"mcp server listening"' in line:
                    self.port = int(json.loads(line)["server.port"])
                    ready.set()
            ready.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        if not ready.wait(120) or self.port is None:
            self.process.kill()
            crash = [i for i, line in enumerate(self.log) if "crashed" in line or "Fatal error" in line]
            shown = self.log[crash[0]:crash[0] + 80] if crash else self.log[-20:]  # a crash: its report's head (the crashing thread)
            raise RuntimeError("server did not start:\n" + "".join(shown))
        self.base = f"http://127.0.0.1:{self.port}"
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.get("/readyz")
            if status == 200:
                return
            time.sleep(0.1)  # polling a probe, not synchronising on time
        raise RuntimeError("server never became ready")

    def get(self, path, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def metrics(self):
        _, text = self.get("/metrics")
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

"""Starts the real `qlik-mcp demo-engine` on an ephemeral loopback port and reports its port."""
import json
import re
import subprocess
import threading

import log_schema


class DemoEngineProcess:
    def __init__(self, binary, extra_args=(), startup_timeout=120, port=0):
        self.process = subprocess.Popen(
            [binary, "demo-engine", "--port", str(port), *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.port = None
        self.log = []
        ready = threading.Event()

        def read_stderr():
            for line in self.process.stderr:
                self.log.append(line)
                log_schema.collect("demo-engine", line)
                if self.port is None and '"demo engine listening"' in line:
                    url = json.loads(line)["url.full"]
                    self.port = int(re.search(r":(\d+)/", url).group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        if not ready.wait(startup_timeout) or self.port is None:
            self.stop()
            raise RuntimeError("demo engine did not start:\n" + "".join(self.log))

    def url(self, path="/app/"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.returncode

"""Start `python app.py` on a free local port, the way a user or a Space does, and call it over HTTP.

The tests and the benchmarks both drive the app through this module.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from ae.ui import serve
from ae.ui.serve import TRAINING_TITLE

ROOT = Path(__file__).resolve().parents[2]  # the checkout: app.py, weights/, examples/
# Debian's chromium, driven by Playwright (`playwright install` is not needed), for the browser test and benchmark.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    """Whether anything serves url now."""
    try:
        urllib.request.urlopen(url, timeout=5).close()
        return True
    except OSError:
        return False


def wait_for(condition, timeout: float = 600) -> None:
    """Poll condition() until it is true; fail after timeout seconds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"still waiting after {timeout} s"
        time.sleep(0.1)


def rss_mb(pid: int) -> float:
    """A process's resident memory now, MB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def raw_request(port: int, head: bytes, body: bytes = b"", *, close_after: int | None = None,
                timeout: float = 60) -> tuple[int | None, bytes]:
    """Bytes on a fresh connection to a local port (head, then body, or only its first close_after bytes before
    hanging up), as a hostile client sends them; returns (status, what came back), status None when the server
    closed without an answer (or close_after hung up first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        sent = body if close_after is None else body[:close_after]
        for i in range(0, len(sent), 65536):
            s.sendall(sent[i:i + 65536])
        if close_after is not None:
            return None, b""
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and (b"content-length" not in answer.lower() or len(answer) > 200):
                    break
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, answer


class CallError(RuntimeError):
    """An API call that the server answered with an error; .message is what it said (None if nothing)."""

    def __init__(self, name: str, message: str | None):
        self.message = message
        super().__init__(f"{name} failed: {message!r}")


def http_call(http, name: str, data: list, session: str | None = None):
    """One call through Gradio's HTTP API with an httpx client: POST starts it, GET streams the result
    (server-sent events). Returns the outputs; raises CallError with the server's message on an error.
    session: a session hash to reuse, as a browser visitor's events or a gradio_client Client do (without
    one, Gradio makes a new session for the call)."""
    # NaN and infinities go out as JavaScript's tokens, as a hostile client may send them
    body = json.dumps({"data": data, **({"session_hash": session} if session else {})})
    started = http.post(f"/gradio_api/call/{name}", content=body, headers={"content-type": "application/json"})
    if started.status_code != 200 or "event_id" not in started.text:
        raise RuntimeError(f"{name} was not started: HTTP {started.status_code} {started.text[:500]}")
    event_id = started.json()["event_id"]
    with http.stream("GET", f"/gradio_api/call/{name}/{event_id}") as r:
        event = None
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line[5:])
                if event == "error":
                    raise CallError(name, payload.get("error") if isinstance(payload, dict) else payload)
                return payload
    raise RuntimeError(f"{name}: stream ended without a result")


class ProgressPageRun:
    """serve.while_showing_progress on a free local port, its work logging one line and then waiting."""

    def __init__(self, line: str, log=print):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.release, self.result = threading.Event(), None

        def work(log_line):
            log_line(line)
            self.release.wait(600)
            return "checkpoint"

        def run():
            self.result = serve.while_showing_progress(work, log=log, server_name="127.0.0.1", server_port=self.port)

        self.worker = threading.Thread(target=run)

    def finish(self):
        """Let the work end; returns what while_showing_progress returned."""
        self.release.set()
        self.worker.join(600)
        return self.result

    def __enter__(self) -> "ProgressPageRun":
        self.worker.start()
        wait_for(lambda: answers(self.url))
        return self

    def __exit__(self, *exc) -> None:
        self.finish()


class AppServer:
    """A running `python app.py`; use as a context manager."""

    def __init__(self, timeout: float = 1200, root: Path = ROOT, **env: str):
        self.root = root  # the checkout whose app.py runs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_SERVER_NAME": "127.0.0.1",
                    "GRADIO_SERVER_PORT": str(self.port), **env}
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self) -> "AppServer":
        start = time.perf_counter()
        self.log = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty server never blocks
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=self.root, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, text=True)
        while time.perf_counter() - start < self.timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.output()}")
            if self.serving_title() not in (None, TRAINING_TITLE):  # the app, not the first-launch progress page
                self.startup_seconds = time.perf_counter() - start
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"app.py did not serve {self.url} within {self.timeout} s")

    def serving_title(self) -> str | None:
        """The title of the Gradio page served at the address now, or None while nothing answers."""
        try:
            with urllib.request.urlopen(self.url + "config", timeout=2) as r:
                return json.load(r).get("title")
        except (OSError, ValueError):
            return None

    def output(self) -> str:
        """What the server has printed so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> str:
        """Stop the server; returns what it printed."""
        if self.proc is None:
            return ""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.output()

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def open_view(page, key: str) -> None:
    """In a Playwright page of the app, open the view whose tab has this id (ae/ui/lesson.py), in either language;
    a tab that does not fit sits under the tab bar's overflow menu."""
    tab = page.locator(f"[role=tab][data-tab-id={key}]")
    if tab.count() and tab.is_visible():
        tab.click()
        return
    from ae.ui.lesson import VIEWS

    keys = [k for _, k, _, _ in VIEWS]
    page.locator(".overflow-menu > button").click()
    page.locator(".overflow-dropdown button").nth(keys.index(key) - page.locator("[role=tab]:visible").count()).click()

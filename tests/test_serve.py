"""The first-launch progress page, its estimate of the time left, and the launch retry in ae/ui/serve.py (the
page's tests start a server)."""

import contextlib
import socket

import pytest
from gradio_client import Client

from ae.ui import serve
from ae.ui.app_server import ProgressPageRun, answers


@contextlib.contextmanager
def port_taken():
    """A local port that some other program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.slow
def test_progress_page_shows_the_log_while_working_then_frees_the_address():
    logged = []
    with ProgressPageRun("Epoch [1/5], Loss: 0.031", log=logged.append) as run:
        client = Client(run.url, verbose=False, httpx_kwargs={"timeout": 300})
        assert client.predict(api_name="/progress") == "Epoch [1/5], Loss: 0.031"
        assert run.finish() == "checkpoint"
    assert logged == ["Epoch [1/5], Loss: 0.031"]
    assert not answers(run.url)  # the address is free for the app


@pytest.mark.slow
def test_work_runs_even_when_the_page_cannot_start():
    with port_taken() as port:
        lines = []
        assert serve.while_showing_progress(lambda log: log("epoch 1") or 7, log=lines.append,
                                            server_name="127.0.0.1", server_port=port) == 7
    assert lines[0].startswith("(No progress page:") and lines[-1] == "epoch 1"


class FlakyDemo:
    """Stands in for gr.Blocks: launch() fails Gradio's localhost check `failures` times, then works."""

    def __init__(self, failures: int, message: str = "When localhost is not accessible, a shareable link ..."):
        self.failures, self.message, self.launches, self.closes = failures, message, 0, 0

    def launch(self, **kwargs):
        self.launches += 1
        if self.launches <= self.failures:
            raise ValueError(self.message)

    def close(self):
        self.closes += 1


def test_launch_retries_after_gradios_localhost_check_fails(monkeypatch):
    monkeypatch.setattr(serve.time, "sleep", lambda s: None)
    demo = FlakyDemo(failures=2)
    serve.launch(demo, attempts=3)
    assert (demo.launches, demo.closes) == (3, 2)
    with pytest.raises(ValueError, match="localhost"):
        serve.launch(FlakyDemo(failures=3), attempts=3)


def test_launch_does_not_retry_other_errors():
    demo = FlakyDemo(failures=1, message="Cannot find empty port")
    with pytest.raises(ValueError, match="empty port"):
        serve.launch(demo)
    assert demo.launches == 1


def test_seconds_left_follows_the_epochs():
    assert serve.seconds_left([], 10.0) is None
    assert serve.seconds_left(["Epoch [1/5], Loss: 0.1", "Epoch [2/5], Loss: 0.05"], 10.0) == pytest.approx(15.0)
    assert serve.seconds_left(["Epoch [5/5], Loss: 0.01"], 20.0) == 0

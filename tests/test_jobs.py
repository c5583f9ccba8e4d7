import os
import queue
import threading
import time

import pytest

from ae import jobs as jobs_module
from ae.checkpoint import load_checkpoint
from ae.jobs import Jobs, LocalBackend, backend_from_env
from ae.lab import LabSettings
from ae.preprocess import InputError
from ae.visitors import YOURS
from tests.conftest import FIXTURES

SMALL = {"code_size": 2, "digits": 300, "epochs": 3, "batch_size": 50}
LONG = {"code_size": 8, "digits": 1000, "epochs": 400, "batch_size": 16}  # minutes, unless stopped


class Gate:
    """A backend whose jobs run until the test opens their gate, recording the order they started in."""

    slots = 1

    def __init__(self):
        self.started, self.gates = [], {}
        self.lock = threading.Lock()

    def execute(self, slot, job_id, settings, emit, should_stop):
        with self.lock:
            self.started.append(job_id)
            gate = self.gates.setdefault(job_id, threading.Event())
        emit({"kind": "progress", "step": 1})
        while not gate.wait(0.01):
            if should_stop():
                break
        if settings.seed == 13:
            raise InputError("refused by the backend")
        return job_id.encode() * 10

    def open(self, job_id):
        with self.lock:
            self.gates.setdefault(job_id, threading.Event()).set()

    def close(self):
        pass


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_queue_serves_in_order_and_tells_each_its_place():
    gate = Gate()
    with Jobs(gate, max_per_owner=5) as jobs:
        ids = [jobs.submit({"seed": i}, owner=f"v{i}") for i in range(4)]
        wait_for(lambda: jobs.status(ids[0]).state == "running")
        assert [jobs.status(i).place for i in ids] == [0, 1, 2, 3]
        waits = [jobs.status(i).wait_seconds for i in ids]
        assert waits[0] == 0 and 0 < waits[1] < waits[2] < waits[3]
        for job_id in ids:
            gate.open(job_id)
        wait_for(lambda: all(jobs.status(i).state == "done" for i in ids))
        assert gate.started == ids
        assert jobs.result(ids[2]) == ids[2].encode() * 10
        messages, cursor = jobs.messages(ids[0])
        assert messages == [{"kind": "progress", "step": 1}] and jobs.messages(ids[0], cursor) == ([], 1)


def test_bounds_on_the_queue_and_on_each_owner():
    gate = Gate()
    with Jobs(gate, max_queued=2, max_per_owner=1) as jobs:
        first = jobs.submit({}, owner="a")
        with pytest.raises(InputError, match="most one visitor may"):
            jobs.submit({}, owner="a")
        wait_for(lambda: jobs.status(first).state == "running")
        jobs.submit({}, owner="b")
        jobs.submit({}, owner="c")
        with pytest.raises(InputError, match="2 runs are waiting already"):
            jobs.submit({}, owner="d")
        with pytest.raises(InputError, match="epochs must be between"):
            jobs.submit({"epochs": 10**9}, owner="e")
        with pytest.raises(InputError, match="No such training run"):
            jobs.status("job-999")
        jobs.stop(first)
        wait_for(lambda: jobs.status(first).state == "stopped")
        assert jobs.result(first) is not None  # a stopped run keeps its model
        jobs.submit({}, owner="a")  # a's run ended: a may start another


def test_a_queued_job_can_be_stopped_and_a_failure_is_told():
    gate = Gate()
    with Jobs(gate, max_per_owner=5) as jobs:
        running, refused, queued = (jobs.submit({"seed": s}) for s in (0, 13, 2))
        jobs.stop(queued)
        assert jobs.status(queued).state == "stopped" and jobs.result(queued) is None
        gate.open(running)
        gate.open(refused)
        wait_for(lambda: jobs.status(refused).state == "failed")
        assert jobs.status(refused).error == "refused by the backend"
        assert gate.started == [running, refused]


def test_finished_jobs_are_dropped_oldest_read_first():
    gate = Gate()
    with Jobs(gate, keep_finished=2, max_per_owner=5) as jobs:
        ids = []
        for i in range(3):
            ids.append(jobs.submit({"seed": i}))
            gate.open(ids[-1])
            wait_for(lambda: jobs.status(ids[-1]).state == "done")
            if i == 1:
                jobs.status(ids[0])  # read: ids[1] is now the oldest read
        assert jobs.status(ids[0]).state == "done"
        with pytest.raises(InputError, match="No such training run"):
            jobs.status(ids[1])


def test_finished_jobs_are_kept_within_a_memory_budget():
    gate = Gate()
    with Jobs(gate, keep_bytes=100, max_per_owner=5) as jobs:  # each result is 50-60 bytes
        ids = []
        for i in range(3):
            ids.append(jobs.submit({"seed": i}))
            gate.open(ids[-1])
            wait_for(lambda: jobs.status(ids[-1]).state == "done")
        assert jobs.status(ids[2]).has_result
        with pytest.raises(InputError):
            jobs.status(ids[0])


def test_polling_from_many_threads_while_jobs_run():
    gate = Gate()
    errors = []
    with Jobs(gate, max_per_owner=50) as jobs:
        ids = [jobs.submit({"seed": 100 + i}) for i in range(20)]

        def poll():
            try:
                for _ in range(200):
                    for job_id in ids:
                        jobs.status(job_id)
                        jobs.messages(job_id, 0)
            except Exception as e:  # noqa: BLE001 - any error fails the test below
                errors.append(e)

        pollers = [threading.Thread(target=poll) for _ in range(4)]
        for t in pollers:
            t.start()
        for job_id in ids:
            gate.open(job_id)
        for t in pollers:
            t.join()
        wait_for(lambda: all(jobs.status(i).state == "done" for i in ids))
    assert not errors and gate.started == ids


def test_the_environment_picks_the_backend(monkeypatch):
    monkeypatch.setenv("AE_TRAIN_CLUSTER", "http://example.org")
    with pytest.raises(ValueError, match="must be \"auto\" or \"ray://HOST:PORT\""):
        backend_from_env()


@pytest.fixture(scope="module")
def local_jobs():
    backend = LocalBackend(workers=1, data_dir=FIXTURES)
    backend.wait_ready()
    with Jobs(backend, max_per_owner=5) as jobs:
        yield jobs


def run_to_end(jobs, job_id, timeout=120.0):
    wait_for(lambda: jobs.status(job_id).state in ("done", "stopped", "failed"), timeout)
    return jobs.messages(job_id)[0]


@pytest.mark.slow
def test_a_local_job_streams_progress_and_ends_with_a_better_model(local_jobs, tmp_path, monkeypatch):
    job_id = local_jobs.submit({**SMALL, "epochs": 20})
    messages = run_to_end(local_jobs, job_id)
    assert local_jobs.status(job_id).state == "done", local_jobs.status(job_id).error
    progress = [m for m in messages if m["kind"] == "progress"]
    assert len(progress) >= 3 and progress[-1]["test_mse"] < progress[0]["test_mse"]
    (tmp_path / "lab.safetensors").write_bytes(local_jobs.result(job_id))
    ckpt = load_checkpoint(tmp_path / "lab.safetensors")
    assert ckpt.metrics["test_mse"] == pytest.approx(progress[-1]["test_mse"])
    assert ckpt.metrics["threads"] == 1 and ckpt.model.config.code_size == 2


@pytest.mark.slow
def test_stop_ends_a_local_job_and_keeps_its_model(local_jobs):
    job_id = local_jobs.submit(LONG)
    wait_for(lambda: local_jobs.status(job_id).messages >= 2)
    local_jobs.stop(job_id)
    messages = run_to_end(local_jobs, job_id, timeout=30)
    assert local_jobs.status(job_id).state == "stopped"
    assert messages[-1]["stopped"] == "stopped" and messages[-1]["steps_done"] < messages[0]["steps"]
    assert local_jobs.result(job_id)


def test_a_worker_without_data_answers_each_job_with_a_message(tmp_path):
    inbox, outbox = queue.Queue(), queue.Queue()  # the worker's loop, run here in a thread: no process to start
    worker = threading.Thread(target=jobs_module._local_worker, args=(inbox, outbox, threading.Event(), tmp_path))
    worker.start()
    inbox.put(("job-1", LabSettings(**SMALL).to_dict()))
    inbox.put(None)
    worker.join(60)
    assert outbox.get(timeout=1) == ("ready", None, None)
    kind, job_id, message = outbox.get(timeout=1)
    assert (kind, job_id) == ("error", "job-1") and "MNIST not found" in message


# Both tests that start a local Ray live in this file: the test workers take a file each (--dist loadfile), so
# two Rays never start at once on a 2-core machine.
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_ray_backend_runs_a_job_on_a_local_ray(tmp_path):
    ray = pytest.importorskip("ray", reason='the Ray backend needs pip install -e ".[cluster]"')
    root = os.path.dirname(os.path.dirname(os.path.abspath(jobs_module.__file__)))
    ray.init(num_cpus=1, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": root}})
    try:
        with Jobs(jobs_module.RayBackend(data_dir=FIXTURES), max_per_owner=5) as jobs:
            assert jobs.backend.slots == 1
            job_id = jobs.submit(SMALL)
            messages = run_to_end(jobs, job_id, timeout=180)
            assert jobs.status(job_id).state == "done", jobs.status(job_id).error
            progress = [m for m in messages if m["kind"] == "progress"]
            assert len(progress) >= 2 and progress[-1]["test_mse"] < progress[0]["test_mse"]
            (tmp_path / "ray.safetensors").write_bytes(jobs.result(job_id))
            assert load_checkpoint(tmp_path / "ray.safetensors").model.config.code_size == 2

            stopped = jobs.submit(LONG)
            wait_for(lambda: jobs.status(stopped).messages >= 2, timeout=120)
            jobs.stop(stopped)
            messages = run_to_end(jobs, stopped, timeout=60)
            assert jobs.status(stopped).state == "stopped" and messages[-1]["stopped"] == "stopped"
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_the_app_trains_on_a_local_ray_when_told_to():
    """AE_TRAIN_CLUSTER=auto: the app starts a Ray on this machine (one CPU, AE_TRAIN_WORKERS's default) at
    launch, in its main thread, and a visitor's run goes through it to the end."""
    pytest.importorskip("ray", reason='the Ray backend needs pip install -e ".[cluster]"')
    import httpx

    from ae.ui.app_server import AppServer
    from tests.test_lab_view import poll_over_http, train_over_http

    with AppServer(AE_DATA_DIR=str(FIXTURES), AE_TRAIN_CLUSTER="auto") as server, \
            httpx.Client(base_url=server.url, timeout=120) as http:
        assert "queue" in train_over_http(http, "rayvisitor01", epochs=3)
        done = poll_over_http(http, "rayvisitor01", timeout=240)
        assert "Done" in done[0] and done[5]["choices"][-1][1] == YOURS, done[0]


def test_a_watched_run_nobody_reads_is_stopped_and_a_forsaken_queued_one_never_starts(monkeypatch):
    """A page polls its run several times a second; when the page is gone (its visitor left), nobody reads it,
    and it must not hold the worker or its place in the queue."""
    monkeypatch.setattr(jobs_module, "UNWATCHED", 0.3)
    backend = Gate()
    with Jobs(backend, max_per_owner=5) as jobs:
        running = jobs.submit(SMALL, owner="a", watched=True)
        waiting = jobs.submit(SMALL, owner="b", watched=True)
        kept = jobs.submit(SMALL, owner="c")  # a script's run: nobody polls it, and it runs on
        wait_for(lambda: jobs.status(running).state == "running")
        time.sleep(0.6)  # nobody reads running or waiting
        wait_for(lambda: jobs.status(running).state == "stopped")
        wait_for(lambda: jobs.status(kept).state == "running")
        assert jobs.status(waiting).state == "stopped" and waiting not in backend.started
        backend.open(kept)
        wait_for(lambda: jobs.status(kept).state == "done")


def test_jobs_that_cannot_be_made_say_why_to_every_caller_and_are_not_retried(capsys):
    calls = []

    def make():
        calls.append(1)
        raise ConnectionError("no Ray at ray://10.0.0.9:10001")

    lab = jobs_module.OnDemand(make)
    lab.start().join()
    assert "no Ray at ray://10.0.0.9:10001" in capsys.readouterr().out
    for _ in range(2):
        with pytest.raises(InputError, match="Training is not available on this server: ConnectionError"):
            lab.get()
    assert len(calls) == 1

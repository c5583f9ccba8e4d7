"""Training jobs: one interface with a FIFO queue, and two backends its callers never see.

    jobs = Jobs(backend_from_env(data_dir))          # local worker processes, or Ray (AE_TRAIN_CLUSTER)
    job_id = jobs.submit({"code_size": 2, ...}, owner=session)   # checked by ae.lab.check_settings
    jobs.status(job_id)                              # state, place in the queue, the wait
    messages, cursor = jobs.messages(job_id, cursor) # progress since the cursor (poll several times a second)
    jobs.stop(job_id); jobs.result(job_id)           # safetensors bytes once done or stopped

Every job runs `ae.lab.run` in a worker: a process of ours (LocalBackend, the default) or a Ray task streaming
its messages back (RayBackend, `pip install -e ".[cluster]"`). Training never runs in the caller's threads.
Everything here is thread-safe: a page polls from many threads at once.
"""

import collections
import contextlib
import functools
import itertools
import multiprocessing
import os
import queue
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ae.lab import WALL_CLOCK_CAP, LabSettings, check_settings, estimate_seconds, run
from ae.preprocess import InputError

ENV_VAR = "AE_TRAIN_CLUSTER"  # unset: local worker processes; "auto": start a local Ray; "ray://HOST:10001"
STATES = ("queued", "running", "done", "stopped", "failed")
FINISHED = ("done", "stopped", "failed")
GRACE = 30.0  # seconds past the wall-clock cap before a worker that has not stopped is ended by force
POLL = 0.05  # seconds between a backend's checks of the stop request: Stop takes effect within about this
ORPHAN_CHECK = 1.0  # seconds between an idle worker's checks that its parent still runs
UNWATCHED = 30.0  # a watched job nobody has read for this long is stopped (queued: dropped), its page gone

Emit = Callable[[dict], None]


class Backend(Protocol):
    """Runs one job at a time per slot; `execute` blocks until the job ends and returns its checkpoint bytes."""

    slots: int

    def execute(self, slot: int, job_id: str, settings: LabSettings, emit: Emit,
                should_stop: Callable[[], bool]) -> bytes: ...

    def close(self) -> None: ...


class JobFailed(RuntimeError):
    """A job that ended with an error; the message is meant for the person who started it."""


@dataclass
class _Job:
    id: str
    owner: str
    settings: LabSettings
    estimate: float
    state: str = "queued"
    error: str | None = None
    messages: list = field(default_factory=list)
    result: bytes | None = None
    nbytes: int = 0  # memory its messages and result hold
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    watched: bool = False  # a page polls it: unread for UNWATCHED seconds, nobody is looking any more
    read: float = field(default_factory=time.monotonic)  # when its status or messages were last asked for

    def forsaken(self) -> bool:
        return self.watched and time.monotonic() - self.read > UNWATCHED


@dataclass(frozen=True)
class JobStatus:
    id: str
    state: str  # one of STATES
    place: int  # 1 = next to run; 0 once it runs or has ended
    wait_seconds: float  # estimated seconds until it starts (0 once it runs)
    estimate_seconds: float  # estimated length of the run itself
    elapsed_seconds: float  # since it started running (0 while queued)
    messages: int  # progress messages so far (the cursor after the last)
    error: str | None  # why it failed or was refused, for people
    has_result: bool


def _size(message: Mapping) -> int:
    return sum(getattr(v, "nbytes", 64) for v in message.values())


class Jobs:
    """The job interface: a FIFO queue in front of a backend's slots, with bounds on everything it keeps."""

    def __init__(self, backend: Backend | None = None, *, max_queued: int = 60, max_per_owner: int = 1,
                 keep_finished: int = 32, keep_bytes: int = 256 * 2**20, max_messages: int = 2000):
        self.backend = backend if backend is not None else LocalBackend()
        self.max_queued = max_queued  # jobs waiting; more are refused with a message
        self.max_per_owner = max_per_owner  # queued or running jobs of one owner (a visitor's session)
        self.keep_finished = keep_finished  # ended jobs kept for their messages and result, least recently read
        self.keep_bytes = keep_bytes  # ... and at most this much memory in their messages and results
        self.max_messages = max_messages  # per job; past it only the "end" message is still kept
        self._jobs: dict[str, _Job] = {}
        self._queue: collections.deque[_Job] = collections.deque()
        self._finished: collections.OrderedDict[str, None] = collections.OrderedDict()  # oldest read first
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._closed = False
        self._runners = [threading.Thread(target=self._serve, args=(slot,), name=f"jobs-slot-{slot}", daemon=True)
                         for slot in range(self.backend.slots)]
        for t in self._runners:
            t.start()

    def submit(self, settings: Mapping | LabSettings, owner: str = "", watched: bool = False) -> str:
        """Queue a run; returns its id (unguessable: whoever holds it may read and stop the run). Refuses
        (InputError) bad settings, a full queue, an owner's extra job; owner "" (a script's) is not bounded.
        watched: a page polls it, and when none has for UNWATCHED seconds (its visitor left) it is stopped."""
        settings = check_settings(settings.to_dict() if isinstance(settings, LabSettings) else settings)
        with self._lock:
            if self._closed:
                raise InputError("Training is shut down.")
            if len(self._queue) >= self.max_queued:
                raise InputError(f"{len(self._queue)} runs are waiting already, the most the queue takes; "
                                 "try again in a minute.")
            mine = sum(1 for j in self._jobs.values() if j.owner == owner and j.state in ("queued", "running"))
            if owner and mine >= self.max_per_owner:
                raise InputError(f"You have {mine} run(s) queued or running, the most one visitor may; stop it or "
                                 "wait for it to end.")
            job = _Job(f"job-{next(self._ids)}-{secrets.token_urlsafe(9)}", owner, settings, estimate_seconds(settings),
                       watched=watched)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._lock.notify_all()
            return job.id

    def status(self, job_id: str) -> JobStatus:
        with self._lock:
            job = self._get(job_id)
            place = wait = 0
            if job.state == "queued":
                place = self._queue.index(job) + 1
                wait = self._wait_before(place - 1)
            now = time.monotonic()
            return JobStatus(job.id, job.state, place, round(wait, 1), round(job.estimate, 1),
                             round((job.ended or now) - job.started, 2) if job.started else 0.0,
                             len(job.messages), job.error, job.result is not None)

    def messages(self, job_id: str, cursor: int = 0) -> tuple[list[dict], int]:
        """The job's messages from index cursor on, and the cursor to pass next time."""
        with self._lock:
            job = self._get(job_id)
            cursor = max(0, int(cursor))
            return job.messages[cursor:], len(job.messages)

    def result(self, job_id: str) -> bytes | None:
        """The checkpoint (safetensors bytes) of a job that is done or was stopped; None before that."""
        with self._lock:
            return self._get(job_id).result

    def stop(self, job_id: str) -> None:
        """A queued job leaves the queue; a running one stops within about POLL seconds and keeps its model."""
        with self._lock:
            job = self._get(job_id)
            job.stop.set()
            if job.state == "queued":
                self._queue.remove(job)
                self._finish(job, "stopped")

    def close(self) -> None:
        """Stop everything and end the workers."""
        with self._lock:
            self._closed = True
            for job in list(self._queue):
                self._finish(job, "stopped")
            self._queue.clear()
            for job in self._jobs.values():
                job.stop.set()
            self._lock.notify_all()
        for t in self._runners:
            t.join(timeout=5)
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # the rest runs under self._lock unless it says otherwise

    def _get(self, job_id: str) -> _Job:
        job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        if job is None:
            raise InputError("No such training run: it ended long ago and was dropped, or never existed.")
        job.read = time.monotonic()
        if job.id in self._finished:
            self._finished.move_to_end(job.id)  # read now: the last to be dropped
        return job

    def _wait_before(self, index: int) -> float:
        """Seconds until the job at queue position index starts: the running jobs' remaining time and the
        queued ones' estimates ahead of it, shared among the slots."""
        now = time.monotonic()
        running = sum(max(0.0, j.estimate - (now - j.started)) for j in self._jobs.values() if j.state == "running")
        ahead = sum(j.estimate for j in itertools.islice(self._queue, index))
        return (running + ahead) / self.backend.slots

    def _finish(self, job: _Job, state: str, error: str | None = None) -> None:
        job.state, job.error, job.ended = state, error, time.monotonic()
        self._finished[job.id] = None
        while len(self._finished) > self.keep_finished or (
                len(self._finished) > 1 and sum(self._jobs[i].nbytes for i in self._finished) > self.keep_bytes):
            del self._jobs[self._finished.popitem(last=False)[0]]

    def _emit(self, job: _Job, message: dict) -> None:
        with self._lock:
            if len(job.messages) < self.max_messages or message.get("kind") == "end":
                job.messages.append(message)
                job.nbytes += _size(message)

    def _serve(self, slot: int) -> None:
        """One slot: take the oldest queued job, run it on the backend (outside the lock), record how it ended."""
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
                if job.forsaken():  # its page left while it waited
                    self._finish(job, "stopped")
                    continue
                job.state, job.started = "running", time.monotonic()
            try:
                blob = self.backend.execute(slot, job.id, job.settings, functools.partial(self._emit, job),
                                            lambda job=job: job.stop.is_set() or job.forsaken())
            except (InputError, JobFailed) as e:
                outcome, error, blob = "failed", str(e), None
            except Exception as e:  # a backend's own failure: say what it was, keep serving
                outcome, error, blob = "failed", f"The training failed ({type(e).__name__}: {e}).", None
            else:
                outcome, error = ("stopped" if job.stop.is_set() or job.forsaken() else "done"), None
            with self._lock:
                job.result = blob
                job.nbytes += len(blob or b"")
                self._finish(job, outcome, error)


@functools.lru_cache(maxsize=2)
def worker_data(data_dir: str | None):
    """MNIST's training and test splits, loaded once per worker process (not sent with every job). A worker
    never downloads: the files must be on its machine already (data_dir, else $AE_DATA_DIR, else ./data)."""
    from ae.data import load_mnist

    return load_mnist(data_dir, train=True, download=False), load_mnist(data_dir, train=False, download=False)


def _run_in_worker(job_id: str, settings: dict, data_dir: str | None, emit: Emit,
                   should_stop: Callable[[], bool]) -> bytes:
    """What a worker does with a job: one torch thread (a worker per core), the data it loaded once, ae.lab.run."""
    import torch

    torch.set_num_threads(1)
    return run(LabSettings(**settings), worker_data(data_dir), emit, should_stop)


def _put_message(outbox, job_id: str, message: dict) -> None:
    outbox.put(("message", job_id, message))


def _local_worker(inbox, outbox, stop, data_dir: str | None, parent: int | None = None, ready=None) -> None:
    """A worker process's loop: jobs in, ("message" | "done" | "error", job id, payload) out. It ends with its
    parent: a server killed without a chance to end its workers (SIGKILL, or a SIGTERM Python does not turn into
    an exit) leaves nobody to read them, and each holds MNIST and torch in memory. parent: the pid that started it
    (passed, not read here: the parent may be gone before this runs)."""
    parent = os.getppid() if parent is None else parent

    def orphaned() -> bool:
        return os.getppid() != parent

    try:
        worker_data(data_dir)  # before the first job, so that job's first step comes soon
    except Exception:  # reported with each job below, where someone reads it
        pass
    outbox.put(("ready", None, None))
    if ready is not None:
        ready.value = 1
    while True:
        try:
            job = inbox.get(timeout=ORPHAN_CHECK)
        except queue.Empty:
            if orphaned():
                outbox.cancel_join_thread()  # nobody reads it: exit without waiting for it to drain
                return
            continue
        if job is None:
            return
        job_id, settings = job
        try:
            emit = functools.partial(_put_message, outbox, job_id)
            blob = _run_in_worker(job_id, settings, data_dir, emit, lambda: stop.is_set() or orphaned())
        except InputError as e:
            outbox.put(("error", job_id, str(e)))
        except Exception as e:
            outbox.put(("error", job_id, f"The training failed ({type(e).__name__}: {e})."))
        else:
            outbox.put(("done", job_id, blob))


class _Worker:
    def __init__(self, ctx, data_dir: str | None):
        self.inbox, self.outbox, self.stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        # A flag with no lock: an Event's set() waits for each process asleep in its wait() to wake, forever if
        # that process was killed meanwhile (the server, say, while it waited for the worker to be ready).
        self.ready = ctx.RawValue("b", 0)
        self.process = ctx.Process(target=_local_worker, args=(self.inbox, self.outbox, self.stop, data_dir,
                                                               os.getpid(), self.ready),
                                   name="ae-train-worker", daemon=True)
        with _main_script_hidden():
            self.process.start()

    def end(self, timeout: float = 5.0) -> None:
        if self.process.is_alive():
            self.inbox.put(None)
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout)


_START = threading.Lock()


@contextlib.contextmanager
def _main_script_hidden():
    """A spawned process first runs the parent's main script (as __mp_main__), unless that script has no file
    to run. `python app.py` loads every model and builds the whole page at import (its demo lives at module
    level), which a worker needs none of; a worker of a script without a `__main__` guard would even run the
    script. So the script's file is hidden while a worker starts; a main module run with `python -m` is
    imported by name, as multiprocessing always does."""
    main = sys.modules.get("__main__")
    with _START:
        path = main.__dict__.pop("__file__", None) if main is not None and main.__spec__ is None else None
        try:
            yield
        finally:
            if path is not None:
                main.__file__ = path


class LocalBackend:
    """Worker processes on this machine (spawned, each loading the data once), one job at a time each."""

    def __init__(self, workers: int = 1, data_dir: str | os.PathLike | None = None):
        self.slots = workers
        self.data_dir = str(data_dir) if data_dir else None
        self._ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds threads and torch
        self._workers = [_Worker(self._ctx, self.data_dir) for _ in range(workers)]

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until every worker has started and loaded the data (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        for w in self._workers:  # a flag, not the outbox: a job's messages may be on their way already
            while not w.ready.value and time.monotonic() < deadline:
                time.sleep(0.05)

    def execute(self, slot, job_id, settings, emit, should_stop) -> bytes:
        w = self._workers[slot]
        if not w.process.is_alive():
            w = self._workers[slot] = _Worker(self._ctx, self.data_dir)
        w.stop.clear()
        w.inbox.put((job_id, settings.to_dict()))
        deadline = time.monotonic() + WALL_CLOCK_CAP + GRACE
        while True:
            if should_stop():
                w.stop.set()
            try:
                kind, about, payload = w.outbox.get(timeout=POLL)
            except queue.Empty:
                if not w.process.is_alive():
                    code = w.process.exitcode
                    self._workers[slot] = _Worker(self._ctx, self.data_dir)
                    raise JobFailed(f"The training process ended unexpectedly (exit code {code}).") from None
                if time.monotonic() > deadline:
                    w.process.kill()
                    self._workers[slot] = _Worker(self._ctx, self.data_dir)
                    raise JobFailed("The training did not stop at its time limit and was ended.") from None
                continue
            if about != job_id:  # "ready", or a message of no job of ours
                continue
            if kind == "message":
                emit(payload)
            elif kind == "done":
                return payload
            else:
                raise JobFailed(payload)

    def close(self) -> None:
        for w in self._workers:
            w.end()


class _Board:
    """A Ray actor: the ids of the jobs asked to stop (a Ray task cannot be told anything once started), and,
    for drivers connected through Ray Client, each job's messages waiting to be taken."""

    def __init__(self):
        self.stopped = set()
        self.posted = collections.defaultdict(list)

    def stop(self, job_id: str) -> None:
        self.stopped.add(job_id)

    def forget(self, job_id: str) -> None:
        self.stopped.discard(job_id)
        self.posted.pop(job_id, None)

    def is_stopped(self, job_id: str) -> bool:
        return job_id in self.stopped

    def post(self, job_id: str, message: dict) -> None:
        self.posted[job_id].append(message)

    def take(self, job_id: str) -> list:
        return self.posted.pop(job_id, [])


def _ray_job(job_id: str, settings: dict, data_dir: str | None, board):
    """The Ray task: ae.lab.run in a thread of the task's worker, its messages yielded as they come (a Ray
    streaming generator), then {"kind": "result", "bytes": ...} or {"kind": "error", "message": ...}."""
    import ray

    messages = queue.Queue()
    pending, stopped, checked = None, False, 0.0

    def should_stop() -> bool:  # asks the board at most every POLL seconds, never waiting for its answer
        nonlocal pending, stopped, checked
        now = time.monotonic()
        if stopped or now - checked < POLL:
            return stopped
        checked = now
        if pending is None:
            pending = board.is_stopped.remote(job_id)
        ready, _ = ray.wait([pending], timeout=0)
        if ready:
            stopped, pending = ray.get(pending), None
        return stopped

    def work():
        try:
            blob = _run_in_worker(job_id, settings, data_dir, messages.put, should_stop)
            messages.put({"kind": "result", "bytes": blob})
        except InputError as e:
            messages.put({"kind": "error", "message": str(e)})
        except Exception as e:
            messages.put({"kind": "error", "message": f"The training failed ({type(e).__name__}: {e})."})
        messages.put(None)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while (message := messages.get()) is not None:
        yield message
    thread.join()


def _ray_job_posted(job_id: str, settings: dict, data_dir: str | None, board) -> None:
    """The same task for a driver connected through Ray Client (ray://), which cannot read a streaming
    generator (ray-project/ray#43357): each message is posted to the board instead, in order."""
    import ray

    for message in _ray_job(job_id, settings, data_dir, board):
        ray.get(board.post.remote(job_id, message))


class RayBackend:
    """Each job is a Ray task (a streaming generator) on any machine of the cluster; its messages stream back.

    address: "ray://HOST:10001" (a cluster's client server), or "auto" to start a Ray on this machine (with
    `cpus` CPUs, default all). When Ray is already initialised in this process (a test's `ray.init`), that one
    is used. Ray must be started from the main thread (see OnDemand.start)."""

    def __init__(self, address: str = "auto", slots: int | None = None, data_dir: str | os.PathLike | None = None,
                 cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise RuntimeError(f'{ENV_VAR}={address} needs Ray: pip install -e ".[cluster]"') from None
        self._ray = ray
        root = str(Path(__file__).resolve().parent.parent)  # the tasks import this very `ae`
        if not ray.is_initialized():
            if address == "auto":
                ray.init(include_dashboard=False, num_cpus=cpus, runtime_env={"env_vars": {"PYTHONPATH": root}})
            else:  # the cluster's machines get this package's code; they need its dependencies installed
                ray.init(address=address, runtime_env={"py_modules": [str(Path(__file__).resolve().parent)]})
        self.slots = slots or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.data_dir = str(data_dir) if data_dir else None
        self._client = ray.util.client.ray.is_connected()  # connected through ray://
        self._task = ray.remote(num_cpus=1)(_ray_job_posted if self._client else _ray_job)
        self._board = ray.remote(num_cpus=0)(_Board).remote()

    def execute(self, slot, job_id, settings, emit, should_stop) -> bytes:
        ray = self._ray
        stream = self._task.remote(job_id, settings.to_dict(), self.data_dir, self._board)
        arrived = queue.Queue()

        def pump():  # a thread reads the stream, so this one can watch the stop request meanwhile
            try:
                if self._client:  # the task posts to the board; take what is there every POLL seconds
                    while not ray.wait([stream], timeout=POLL)[0]:
                        for message in ray.get(self._board.take.remote(job_id)):
                            arrived.put(message)
                    ray.get(stream)  # raises the task's error, if it failed
                    for message in ray.get(self._board.take.remote(job_id)):
                        arrived.put(message)
                else:
                    for ref in stream:
                        arrived.put(ray.get(ref))
            except Exception as e:
                arrived.put({"kind": "error", "message": f"The training failed ({type(e).__name__}: {e})."})
            arrived.put({"kind": "error", "message": "The training ended without its model."})

        threading.Thread(target=pump, name=f"{job_id}-stream", daemon=True).start()
        stop_sent = False
        deadline = time.monotonic() + WALL_CLOCK_CAP + GRACE
        try:
            while True:
                if should_stop() and not stop_sent:
                    self._board.stop.remote(job_id)
                    stop_sent = True
                try:
                    message = arrived.get(timeout=POLL)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        ray.cancel(stream, force=True)
                        raise JobFailed("The training did not stop at its time limit and was ended.") from None
                    continue
                if message["kind"] == "result":
                    return message["bytes"]
                if message["kind"] == "error":
                    raise JobFailed(message["message"])
                emit(message)
        finally:
            if stop_sent or self._client:
                self._board.forget.remote(job_id)

    def close(self) -> None:
        """Leaves Ray running: whoever started it (this process's `ray.init`, or the cluster) shuts it down."""


def backend_from_env(data_dir: str | os.PathLike | None = None, workers: int = 1) -> Backend:
    """The backend AE_TRAIN_CLUSTER asks for: unset, `workers` local worker processes; "auto", a Ray on this
    machine with `workers` CPUs; "ray://HOST:PORT", the cluster there (as many runs at once as it has CPUs)."""
    address = os.environ.get(ENV_VAR, "").strip()
    if not address:
        return LocalBackend(workers, data_dir)
    if address != "auto" and not address.startswith("ray://"):
        raise ValueError(f'{ENV_VAR} must be "auto" or "ray://HOST:PORT", got {address!r}')
    return RayBackend(address, data_dir=data_dir, cpus=workers if address == "auto" else None)


class OnDemand:
    """Jobs made when first needed, or ahead of time by start(): a server that may never train spawns no
    workers, and one that starts them ahead gives its first visitor a warm worker (a cold one loads torch and
    MNIST first, ~10 s on the 2-core machine)."""

    def __init__(self, make: Callable[[], Jobs]):
        self._make, self._jobs, self._lock = make, None, threading.Lock()
        self._failed: str | None = None  # why the jobs could not be made (told to each caller, not retried)

    def get(self) -> Jobs:
        with self._lock:
            if self._failed:
                raise InputError(f"Training is not available on this server: {self._failed}")
            if self._jobs is None:
                try:
                    self._jobs = self._make()
                except Exception as e:
                    self._failed = f"{type(e).__name__}: {e}"[:300]
                    raise InputError(f"Training is not available on this server: {self._failed}") from None
            return self._jobs

    def start(self) -> threading.Thread:
        """Make the jobs here and now, and warm their workers in the background; returns the thread doing that.
        Made in the caller's thread because Ray must start in the main thread: a Ray driver started from another
        thread lost its raylet within a minute here, and every run stayed at "starting" until the app died."""
        try:
            backend = self.get().backend
        except InputError as e:  # a Ray that cannot be reached, say: each run then says why
            print(e, flush=True)
            backend = None

        def warm():
            if hasattr(backend, "wait_ready"):
                backend.wait_ready()
        thread = threading.Thread(target=warm, name="jobs-warm-up", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self._lock:
            if self._jobs is not None:
                self._jobs.close()

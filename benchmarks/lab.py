"""The training lab: Train -> first progress message (local workers, and Ray on a local Ray, with Ray's overhead
per job), the default run's wall time and test MSE, and each preset's warning figure.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.lab                       # the test fixtures
    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.lab --data-dir ../shared/data   # real MNIST

On the fixtures (1,000 training digits) every run's digits are capped at 1,000. Runs go through the job
interface (ae/jobs.py) with one worker, as the app's; the test MSE is the checkpoint's on the whole test split.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ae.checkpoint import load_checkpoint
from ae.data import load_mnist
from ae.jobs import Jobs, LocalBackend
from ae.lab import PRESETS, LabSettings, estimate_seconds
from ae.train import evaluate

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
QUICK = {"code_size": 2, "digits": 300, "epochs": 2, "batch_size": 50}  # for the latency figures


def wait_until(predicate, timeout=600.0, step=0.002):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(step)


def first_message_and_total(jobs: Jobs, settings: dict) -> tuple[float, float]:
    """Seconds from submit to the first progress message, and to the job's end."""
    start = time.perf_counter()
    job_id = jobs.submit(settings)
    wait_until(lambda: any(m["kind"] == "progress" for m in jobs.messages(job_id)[0]))
    first = time.perf_counter() - start
    wait_until(lambda: jobs.status(job_id).state in ("done", "stopped", "failed"))
    assert jobs.status(job_id).state == "done", jobs.status(job_id).error
    return first, time.perf_counter() - start


def latencies(jobs: Jobs, rounds: int) -> dict:
    runs = [first_message_and_total(jobs, QUICK) for _ in range(rounds)]
    return {"first": statistics.median(r[0] for r in runs), "first_max": max(r[0] for r in runs),
            "total": statistics.median(r[1] for r in runs)}


def stop_latency(jobs: Jobs, rounds: int) -> float:
    """Median seconds from stop() to the job's "end" message."""
    times = []
    for _ in range(rounds):
        job_id = jobs.submit({"digits": 1000, "epochs": 400, "batch_size": 16})
        wait_until(lambda: jobs.status(job_id).messages >= 3)  # noqa: B023 - called before the loop moves on
        start = time.perf_counter()
        jobs.stop(job_id)
        wait_until(lambda: jobs.messages(job_id)[0][-1]["kind"] == "end")  # noqa: B023
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def full_run(jobs: Jobs, settings: LabSettings, test) -> dict:
    start = time.perf_counter()
    job_id = jobs.submit(settings)
    wait_until(lambda: jobs.status(job_id).state in ("done", "stopped", "failed"))
    seconds = time.perf_counter() - start
    status = jobs.status(job_id)
    assert status.state == "done", status.error
    messages = jobs.messages(job_id)[0]
    progress = [m for m in messages if m["kind"] == "progress"]
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "lab.safetensors").write_bytes(jobs.result(job_id))
        ckpt = load_checkpoint(Path(d) / "lab.safetensors")
    end = messages[-1]
    return {"seconds": seconds, "estimate": estimate_seconds(settings), "test_mse": evaluate(ckpt.model, test.images),
            "first_test_mse": progress[0]["test_mse"], "last_test_mse": end["test_mse"],
            "final_train_loss": end["final_train_loss"], "updates": len(progress)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(FIXTURES), help="MNIST root directory (default: the test fixtures)")
    p.add_argument("--rounds", type=int, default=5, help="jobs per latency figure (default 5)")
    p.add_argument("--no-ray", action="store_true", help="leave out the Ray figures")
    p.add_argument("--no-local", action="store_true", help="leave out the local figures and the runs")
    p.add_argument("--ray-address", default=None,
                   help="a running cluster's ray://HOST:PORT instead of a Ray started here (num_cpus=1)")
    p.add_argument("--only", nargs="*", help="presets to run (default: all)")
    args = p.parse_args()
    train, test = load_mnist(args.data_dir, train=True, download=False), load_mnist(args.data_dir, False, False)
    print(f"torch {torch.__version__}; data {args.data_dir}: {len(train)} training, {len(test)} test digits")

    local = None
    if not args.no_local:
        start = time.perf_counter()
        backend = LocalBackend(workers=1, data_dir=args.data_dir)
        with Jobs(backend, max_per_owner=100) as jobs:
            cold = first_message_and_total(jobs, QUICK)[0]
            print(f"local: first job's first message {cold:.2f} s after submit ({time.perf_counter() - start:.2f} s "
                  "after the worker was started: spawn, imports, data)")
            local = latencies(jobs, args.rounds)
            print(f"local: Train -> first progress message, median {local['first']:.3f} s "
                  f"(max {local['first_max']:.3f}); submit -> done {local['total']:.3f} s for {QUICK}")
            print(f"local: stop -> end message, median {stop_latency(jobs, args.rounds):.3f} s")

            default = LabSettings(digits=min(LabSettings().digits, len(train)))
            r = full_run(jobs, default, test)
            print(f"default run {default}: {r['seconds']:.1f} s submit -> done (estimate {r['estimate']:.1f} s), "
                  f"test MSE {r['test_mse']:.5f} on {len(test)} test digits, {r['updates']} progress messages")

            for name, preset in PRESETS.items():
                if args.only and name not in args.only:
                    continue
                s = preset.settings
                s = LabSettings(**{**s.to_dict(), "digits": min(s.digits, len(train))})
                r = full_run(jobs, s, test)
                print(f"preset {name} ({s.digits} digits x {s.epochs} epochs): {r['seconds']:.1f} s (estimate "
                      f"{r['estimate']:.1f}); test MSE first {r['first_test_mse']:.5f}, last {r['last_test_mse']:.5f} "
                      f"(subset), {r['test_mse']:.5f} (all); final train loss {r['final_train_loss']:.5f}; "
                      f"test/train {r['last_test_mse'] / r['final_train_loss']:.2f}; last/first test "
                      f"{r['last_test_mse'] / r['first_test_mse']:.3f}")

    if not args.no_ray:
        import ray

        from ae.jobs import RayBackend

        root = str(Path(__file__).resolve().parent.parent)
        start = time.perf_counter()
        if not args.ray_address:
            ray.init(num_cpus=1, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": root}})
        try:
            with Jobs(RayBackend(args.ray_address or "auto", data_dir=args.data_dir), max_per_owner=100) as jobs:
                print(f"ray {ray.__version__}: {args.ray_address or 'local ray.init'}, connected in "
                      f"{time.perf_counter() - start:.2f} s")
                cold = first_message_and_total(jobs, QUICK)[0]
                print(f"ray: first job's first message {cold:.2f} s after submit (a Ray worker starts, imports, "
                      "loads the data)")
                r = latencies(jobs, args.rounds)
                overhead = f"; overhead per job over local {r['total'] - local['total']:+.3f} s" if local else ""
                print(f"ray: Train -> first progress message, median {r['first']:.3f} s (max {r['first_max']:.3f}); "
                      f"submit -> done {r['total']:.3f} s{overhead}")
                print(f"ray: stop -> end message, median {stop_latency(jobs, args.rounds):.3f} s")
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()

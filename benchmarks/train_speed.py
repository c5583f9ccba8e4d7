"""Wall time to tutorial quality: the tutorial's script vs our trainer with the app's first-launch settings.

    GRADIO_ANALYTICS_ENABLED=False python -m benchmarks.train_speed --data-dir ../shared/data --rounds 2

Runs the two alternately (tutorial, ours, tutorial, ours, ...) in one process so drift in machine load
hits both, and prints each run's wall time (data loading + training + test evaluation) and test MSE.
"""

import argparse
import json
import statistics
import time

import torch

from ae.data import load_mnist
from ae.train import FIRST_LAUNCH, fit
from benchmarks import tutorial


def time_ours(data_dir: str) -> tuple[float, float]:
    start = time.perf_counter()
    train, test = load_mnist(data_dir, train=True, download=False), load_mnist(data_dir, train=False, download=False)
    ckpt = fit(FIRST_LAUNCH, train, test, log=lambda _: None, progress=False)
    return time.perf_counter() - start, ckpt.metrics["test_mse"]


def time_tutorial(data_dir: str) -> tuple[float, float]:
    start = time.perf_counter()
    mse = tutorial.run(data_dir, log=lambda _: None)
    return time.perf_counter() - start, mse


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--rounds", type=int, default=1, help="tutorial/ours pairs to run (default 1)")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; first-launch settings: {FIRST_LAUNCH}")
    runs = {"tutorial": [], "ours": []}
    for r in range(args.rounds):
        for name, fn in (("tutorial", time_tutorial), ("ours", time_ours)):
            seconds, mse = fn(args.data_dir)
            runs[name].append((seconds, mse))
            print(f"round {r + 1} {name:>8}: {seconds:6.1f} s, test MSE {mse:.6f}", flush=True)
    summary = {
        name: {"median_seconds": statistics.median(s for s, _ in rs), "test_mse": [m for _, m in rs]}
        for name, rs in runs.items()
    }
    summary["time_ratio_ours_over_tutorial"] = summary["ours"]["median_seconds"] / summary["tutorial"]["median_seconds"]
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

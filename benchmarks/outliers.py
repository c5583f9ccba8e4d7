"""What the outlier meter flags: each of its scores alone and combined, on non-digits (letters, shapes,
scribbles made by ae/nondigits.py) and on MNIST test digits sent as people send them.

    python -m benchmarks.outliers                              # the figures stored with the meter
    python -m benchmarks.outliers --data-dir ../shared/data    # measured again (~1 minute on 2 cores)

Each score flags what lies above its own 99th percentile on the 10,000 test digits, so 1% of the test
digits themselves are flagged by each.
"""

import argparse
import time

import numpy as np
import torch

from ae.build import meter_inputs
from ae.checkpoint import WEIGHTS_DIR, load
from ae.data import load_mnist
from ae.nondigits import NON_DIGITS, probe_sets
from ae.outliers import flag_rates, part_scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root: make the sets and measure again")
    args = p.parse_args()
    meter = load(WEIGHTS_DIR / "outliers.safetensors")
    models, gaussians = meter_inputs(meter.parts, WEIGHTS_DIR)
    rates = meter.metrics["flagged"]
    if args.data_dir:
        test = load_mnist(args.data_dir, train=False)
        rates = flag_rates(meter, models, gaussians, probe_sets(test.images[:2000].numpy(), log=lambda line: None))
        one = torch.from_numpy(test.images[:1].numpy() / np.float32(255))
        start = time.perf_counter()
        for _ in range(200):
            part_scores(meter.parts, models, gaussians, one)
        print(f"scoring one input: {(time.perf_counter() - start) / 200 * 1000:.2f} ms")
    names = [p.name for p in meter.parts]
    print("| set | images | " + " | ".join(names) + " | combined |\n|---|---|" + "---|" * (len(names) + 1))
    for name, r in rates.items():
        each = " | ".join(f"{r[n]:.1%}" for n in names)
        print(f"| {name} | {r['count']} | {each} | **{r['combined']:.1%}** |")
    kinds = [k for k in NON_DIGITS if k in rates]
    count = sum(rates[k]["count"] for k in kinds)
    for n in [*names, "combined"]:
        share = sum(rates[k][n] * rates[k]["count"] for k in kinds) / count
        worst = max(r[n] for k, r in rates.items() if k not in NON_DIGITS)
        print(f"{n}: {share:.1%} of the {count} non-digits flagged; at most {worst:.1%} of any set of sent digits")


if __name__ == "__main__":
    main()

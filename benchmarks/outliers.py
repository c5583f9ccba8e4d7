"""What the outlier meter flags: each of its scores alone and combined, on non-digits (letters, shapes,
scribbles made by ae/nondigits.py) and on MNIST test digits sent as people send them.

    python -m benchmarks.outliers                              # the figures stored with the meter
    python -m benchmarks.outliers --data-dir ../shared/data    # measured again (~2 minutes on 2 cores)
    python -m benchmarks.outliers --data-dir DIR --parts '[{"score": "elbo", "model": "vae-16.safetensors"}]'
                                                               # a candidate meter, fitted on the test digits

Each score flags what lies above its own 99th percentile on the 10,000 test digits, so 1% of the test
digits themselves are flagged by each; its ROC AUC is against those 10,000 test digits. Nothing is fitted on
non-digits. --draw 1 (or more) makes other seeded non-digits and sends other test digits, to choose a meter's
parts with; the reported figures are draw 0.
"""

import argparse
import json
import time

import numpy as np
import torch

from ae.artifacts import load
from ae.build import meter_inputs
from ae.checkpoint import WEIGHTS_DIR
from ae.data import load_mnist
from ae.nondigits import NON_DIGITS, probe_sets
from ae.outliers import RULES, Part, fit_meter, measure, part_scores

SENT = 2000  # test digits sent in each of the ways people send them


def table(figures: dict, names: list[str]) -> str:
    """The markdown table of the figures: per set, each score's ROC AUC against the test digits and share
    flagged at 1% of the test digits flagged (sent digits: the share flagged only)."""
    rates, areas = figures["flagged"], figures.get("auroc", {})
    cols = [*names, "combined"]

    def cell(r, a, n):
        return (f"{a[n]:.3f} / " if a else "") + f"{r[n]:.1%}"

    lines = ["| set | images | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    kinds = [k for k in NON_DIGITS if k in rates]
    for k in kinds:
        lines.append(f"| {k} | {rates[k]['count']} | "
                     + " | ".join(cell(rates[k], areas.get(k), n) for n in cols) + " |")
    count = sum(rates[k]["count"] for k in kinds)
    pooled = {n: sum(rates[k][n] * rates[k]["count"] for k in kinds) / count for n in cols}
    lines.append(f"| all non-digits | {count} | "
                 + " | ".join(cell(pooled, areas.get("non-digits"), n) for n in cols) + " |")
    sent = [r for k, r in rates.items() if k not in NON_DIGITS]
    if sent:
        lines.append(f"| sent digits, worst of {len(sent)} ways | {sent[0]['count']} each | "
                     + " | ".join(f"{max(r[n] for r in sent):.1%}" for n in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root: make the sets and measure again")
    p.add_argument("--parts", default=None, help="a candidate meter's parts, as the manifest's JSON list (needs "
                                                 "--data-dir: its reference is scored on the test digits)")
    p.add_argument("--rule", choices=RULES, default=None, help="how a candidate meter combines its parts "
                                                               "(default: the stored meter's rule)")
    p.add_argument("--draw", type=int, default=0, help="which seeded draw of the sets (0, the reported one)")
    p.add_argument("--json", default=None, help="also write the figures to this file")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if (args.parts or args.draw or args.rule) and not args.data_dir:
        p.error("--parts, --rule and --draw need --data-dir")
    meter = load(WEIGHTS_DIR / "outliers.safetensors")
    parts = tuple(Part(**d) for d in json.loads(args.parts)) if args.parts else meter.parts
    models, gaussians = meter_inputs(parts, WEIGHTS_DIR)
    figures = {"flagged": meter.metrics["flagged"], "auroc": meter.metrics.get("auroc", {})}
    if args.data_dir:
        test = load_mnist(args.data_dir, train=False)
        if args.parts or args.rule:
            meter = fit_meter(parts, part_scores(parts, models, gaussians, test.images.float() / 255),
                              rule=args.rule or meter.rule)
        sent = test.images[SENT * args.draw: SENT * (args.draw + 1)].numpy()
        sets = probe_sets(sent, log=lambda line: None, draw=args.draw)
        figures = measure(meter, models, gaussians, sets, positives=NON_DIGITS)
        one = torch.from_numpy(test.images[:1].numpy() / np.float32(255))
        start = time.perf_counter()
        for _ in range(100):
            part_scores(meter.parts, models, gaussians, one)
        print(f"scoring one input: {(time.perf_counter() - start) / 100 * 1000:.2f} ms")
    names = [p.name for p in meter.parts]
    print("ROC AUC against the 10,000 test digits / share flagged at 1% of the test digits flagged:")
    print(table(figures, names))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"parts": names, "draw": args.draw, **figures}, f, indent=1)


if __name__ == "__main__":
    main()

"""Rebuild every artifact that weights/manifest.json names, from MNIST: `python -m ae.build --help`.

Each entry of the manifest names its kind and its recipe (for a network, the TrainConfig fields that
differ from its kind's defaults: a VAE's beta is in its "model"). One builder per kind (ae/artifacts.py names
it); each prints the figures of what it wrote. Each builder takes (manifest entry, output path, training split,
test split, device) -> figures.
"""

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ae.artifacts import KINDS, builder, load
from ae.beta import BetaTable, save_beta_table
from ae.checkpoint import (
    WEIGHTS_DIR,
    CheckpointError,
    Codes,
    Run,
    load_checkpoint,
    read_manifest,
    save_checkpoint,
    save_classifier,
    save_codes,
    save_gaussians,
    save_map,
    save_outliers,
    save_pca,
    save_run,
)
from ae.classify import accuracy_table, fit_classifier
from ae.data import MNISTNotFound, Split, load_mnist
from ae.judge import CONFIDENT, RECIPE, fit_judge, prior_pictures, sample_quality, save_judge, train_judge
from ae.latent import encode_all, fit_gaussians
from ae.latent_map import build_map, neighbour_agreement
from ae.models import as_model
from ae.noise import training_noise
from ae.nondigits import NON_DIGITS, probe_sets
from ae.outliers import JUDGE_SCORES, Part, fit_meter, measure, part_scores
from ae.pca import fit_pca, pca_test_mse
from ae.train import TrainConfig, denoising_loss, fit, resolve_device
from ae.vae import kl_divergence, negative_elbo

# None: the kind's own loss (ae.train.LOSSES). A VAE has no denoising objective.
OBJECTIVES = {"reconstruct": None, "denoise": denoising_loss(training_noise)}


def _build_network(entry: dict, out: Path, train: Split, test: Split, device: str, kind: str):
    """Train the network of `kind` the entry's recipe describes with its objective; returns the checkpoint unsaved."""
    cfg = TrainConfig.from_dict({**entry.get("train", {}), "kind": kind})
    objective = entry.get("objective", "reconstruct")
    objectives = list(OBJECTIVES) if kind != "vae" else ["reconstruct"]
    if objective not in objectives:
        raise SystemExit(f"error: {out.name}: objective must be one of {objectives}, got {objective!r}")
    ckpt = fit(cfg, train, test, progress=False, device=device, log=lambda line: print(f"  {line}", flush=True),
               loss_fn=OBJECTIVES[objective])
    ckpt.train["objective"] = objective
    return ckpt


def _figures(ckpt) -> dict:
    return {"test_mse": round(ckpt.metrics["test_mse"], 6), "code_size": ckpt.model.config.code_size,
            "train_seconds": ckpt.metrics["train_seconds"]}


def build_autoencoder(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Train the autoencoder the entry's recipe describes; returns its figures."""
    ckpt = _build_network(entry, out, train, test, device, "autoencoder")
    save_checkpoint(out, ckpt)
    return _figures(ckpt)


def build_vae(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Train the VAE the entry's recipe describes; its figures add the mean -ELBO of a test digit (in nats, at
    the mean code: the score an outlier meter would read) and its KL part."""
    ckpt = _build_network(entry, out, train, test, device, "vae")
    with torch.inference_mode():
        x = test.images.float().div(255).reshape(len(test), -1)
        nelbo, kl = negative_elbo(ckpt.model, x), kl_divergence(*ckpt.model.posterior(x))
    ckpt.metrics.update(test_negative_elbo=round(float(nelbo.mean()), 3), test_kl=round(float(kl.mean()), 3))
    save_checkpoint(out, ckpt)
    return _figures(ckpt) | {k: ckpt.metrics[k] for k in ("test_negative_elbo", "test_kl")}


def build_judge(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Train the judge (ae/judge.py: seeded, on the training digits' pixels) and keep it with its features'
    class statistics; its figure is its test accuracy."""
    network, accuracy = train_judge(train, test, seed=entry.get("seed", 0))
    save_judge(out, fit_judge(network, train, {"test_accuracy": accuracy, "recipe": RECIPE}))
    return {"test_accuracy": round(accuracy, 4)}


def build_betas(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """The beta table (ae/beta.py) of the entry's `models` (VAE files, built before it): each one's test figures,
    and what the entry's `judge` (ae/judge.py, built before it) makes of `samples` prior draws (seed `seed`) it
    decodes."""
    samples, seed = entry.get("samples", 1000), entry.get("seed", 0)
    stored = load(out.parent / entry["judge"])
    if stored.kind != "judge":
        raise SystemExit(f"error: {out.name}: {entry['judge']} is a {stored.kind}, not a judge")
    judge, accuracy = stored.network, stored.metrics["test_accuracy"]
    print(f"  judge: test accuracy {accuracy:.4f}", flush=True)
    x = test.images.float().div(255).reshape(len(test), -1)
    rows = []
    for file in entry["models"]:
        ckpt = load(out.parent / file)
        if ckpt.kind != "vae":
            raise SystemExit(f"error: {out.name}: {file} is a {ckpt.kind}, not a vae")
        vae = ckpt.model
        with torch.inference_mode():
            kl = kl_divergence(*vae.posterior(x))
            elbo = negative_elbo(vae, x, samples=1, generator=torch.Generator().manual_seed(seed))
            mse = float(((vae(x).reshape(x.shape) - x) ** 2).mean())
        quality = sample_quality(judge, prior_pictures(vae, samples, seed))
        rows.append({"beta": vae.config.beta, "mse": mse, "kl": float(kl.mean()), "elbo": float(elbo.mean()),
                     **quality, "model": file, "name": as_model(ckpt, file).name})
    save_beta_table(out, BetaTable(rows, {"recipe": RECIPE, "test_accuracy": accuracy, "samples": samples,
                                          "seed": seed, "confident": CONFIDENT}))
    return {"judge_accuracy": round(accuracy, 4)} | {
        row["name"]: {k: round(row[k], 4) for k in ("mse", "kl", "elbo", "confident_share", "min_class_share",
                                                    "max_class_share")} for row in rows}


def build_conv(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Train the convolutional autoencoder the entry's recipe describes; returns its figures."""
    ckpt = _build_network(entry, out, train, test, device, "conv")
    save_checkpoint(out, ckpt)
    return _figures(ckpt)


def build_pca(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Fit PCA on the training digits; its figures: test MSE at each of the entry's "sizes"."""
    pca = fit_pca(train.images)
    mse = {str(k): round(pca_test_mse(pca, test.images, k), 6) for k in entry.get("sizes", [])}
    save_pca(out, replace(pca, metrics={"test_mse": mse}))
    return {"test_mse": mse}


def build_run(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Train by the entry's recipe and keep only the curves (the overfitting and learning-rate runs)."""
    cfg = TrainConfig.from_dict(entry.get("train", {}))
    ckpt = fit(cfg, train, test, progress=False, device=device, log=lambda line: None)
    h = ckpt.history
    best = min(range(len(h["test_mse"])), key=lambda i: h["test_mse"][i])
    metrics = {"best_epoch": best + 1, "best_test_mse": h["test_mse"][best], "last_test_mse": h["test_mse"][-1],
               "last_train_loss": h["train_loss"][-1], "train_seconds": ckpt.metrics["train_seconds"]}
    save_run(out, Run(cfg.to_dict(), h, metrics))
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()}


def build_codes(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Encode a seeded sample of `count` training digits with the entry's `model` (built before it)."""
    model = load_checkpoint(out.parent / entry["model"]).model
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[: entry.get("count", 5000)]
    codes = encode_all(model, train.images[pick])
    save_codes(out, Codes(codes, train.labels[pick], entry["model"]))
    return {"digits": len(pick), "code_size": codes.shape[1]}


def build_gaussians(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Fit a Gaussian to each class's training codes under the entry's `model` (built before it)."""
    model = load_checkpoint(out.parent / entry["model"]).model
    save_gaussians(out, fit_gaussians(encode_all(model, train.images), train.labels, entry["model"]))
    return {"classes": 10, "code_size": model.config.code_size}


def classifier_features(entry: dict, weights_dir: Path) -> dict:
    """The kinds of input the accuracy table compares, for a classifier entry: pixels, and the codes of each
    autoencoder in `compare` (the entry's `model` first) beside PCA with as many numbers (its `pca` file)."""
    pca = load(weights_dir / entry["pca"])
    pixels = lambda images: images.reshape(len(images), -1).float() / 255  # noqa: E731
    features = {"pixels (784 numbers)": pixels}
    for name in entry.get("compare", [entry["model"]]):
        model = load_checkpoint(weights_dir / name).model
        d = model.config.code_size
        features[f"autoencoder code ({d} numbers)"] = lambda images, model=model: encode_all(model, images)
        features[f"PCA ({d} numbers)"] = lambda images, d=d: pca.encode(pixels(images), d)
    return features


def build_classifier(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Fit the classifier on the codes of every training digit under the entry's `model`, and measure the
    accuracy table (see classifier_features) with all labels and with `per_class` labels a class over
    `draws` draws."""
    table = accuracy_table(classifier_features(entry, out.parent), train.images, train.labels, test.images,
                           test.labels, per_class=entry.get("per_class", 10), draws=entry.get("draws", 10))
    model = load_checkpoint(out.parent / entry["model"]).model
    classifier = fit_classifier(encode_all(model, train.images), train.labels, entry["model"])
    predicted = classifier.probabilities(encode_all(model, test.images)).argmax(1)
    metrics = {"test_accuracy": round(float((predicted == test.labels).double().mean()), 4), "table": table}
    save_classifier(out, replace(classifier, metrics=metrics))
    return {"test_accuracy": metrics["test_accuracy"]}


def build_latent_map(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Project the codes of the first `count` test digits under the entry's `model` with PCA and t-SNE."""
    model = load_checkpoint(out.parent / entry["model"]).model
    digits = test.head(entry.get("count", 5000))
    m = build_map(encode_all(model, digits.images), digits.labels, digits.images, torch.arange(len(digits)),
                  entry["model"], perplexity=entry.get("perplexity", 30.0))
    m.metrics.update({f"{name}_neighbour_agreement": round(neighbour_agreement(xy, m.labels), 4)
                      for name, xy in (("code", m.codes), ("pca", m.pca_xy), ("tsne", m.tsne_xy))})
    save_map(out, m)
    return m.metrics


def meter_inputs(parts: tuple[Part, ...], weights_dir: Path) -> tuple[dict, dict]:
    """The models (or judges) and class Gaussians the parts of an outlier meter read, by file name."""
    models = {p.model: load(weights_dir / p.model) if p.score in JUDGE_SCORES
              else as_model(load(weights_dir / p.model), p.model) for p in parts}  # an autoencoder, a VAE, a judge
    gaussians = {p.gaussians: load(weights_dir / p.gaussians) for p in parts if p.gaussians}
    return models, gaussians


def build_outliers(entry: dict, out: Path, train: Split, test: Split, device: str) -> dict:
    """Score every test digit with each of the entry's `parts`: the meter's reference distributions."""
    parts = tuple(Part(**p) for p in entry["parts"])
    inputs = meter_inputs(parts, out.parent)
    scores = part_scores(parts, *inputs, test.images.float() / 255)
    meter = fit_meter(parts, scores, rule=entry.get("rule", "max"))
    probes = probe_sets(test.images[: entry.get("transformed", 2000)].numpy(), log=print)
    metrics = {"digits": scores.shape[1], "threshold": round(meter.threshold, 4),
               "median": {p.name: float(np.median(s)) for p, s in zip(parts, scores, strict=True)},
               **measure(meter, *inputs, probes, positives=NON_DIGITS)}  # "flagged" and "auroc", per set
    save_outliers(out, replace(meter, metrics=metrics))
    return {k: metrics[k] for k in ("threshold", "median")} | {
        name: rates["combined"] for name, rates in metrics["flagged"].items()} | {
        "auroc": metrics["auroc"].get("non-digits", {}).get("combined")}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="Rebuild the artifacts weights/manifest.json names, from MNIST.")
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR,
                   help=f"the folder with manifest.json (default {WEIGHTS_DIR})")
    p.add_argument("--only", nargs="*", default=None, metavar="FILE", help="rebuild only these (default: all)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu",
                   help="where to train (default cpu: the shipped files are the CPU's reproducible results)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch; results on the CPU can depend on it (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            p.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    try:
        manifest = read_manifest(args.weights_dir)
        device = resolve_device(args.device).type
        train, test = load_mnist(args.data_dir, train=True), load_mnist(args.data_dir, train=False)
    except (CheckpointError, MNISTNotFound, ValueError) as e:
        raise SystemExit(f"error: {e}") from None
    names = list(manifest["artifacts"]) if args.only is None else args.only
    unknown = [n for n in names if n not in manifest["artifacts"]]
    if unknown:
        raise SystemExit(f"error: not in the manifest: {unknown} (it names {list(manifest['artifacts'])})")
    for name in names:
        entry = manifest["artifacts"][name]
        if entry.get("kind") not in KINDS:
            raise SystemExit(f"error: {name}: no builder for kind {entry.get('kind')!r} (known: {list(KINDS)})")
        build = builder(entry["kind"])
        print(f"{name}: building ({entry.get('kind')})", flush=True)
        start = time.perf_counter()
        figures = build(entry, args.weights_dir / name, train, test, device)
        print(f"{name}: {figures}, {time.perf_counter() - start:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()

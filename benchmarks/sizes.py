"""Test MSE against code size, the autoencoders of weights/ beside PCA with as many components.

    python -m benchmarks.sizes --data-dir ../shared/data

With --data-dir, each model is scored again on the 10,000 test digits; without, the figures stored with
the artifacts are printed.

A second table sets the convolutional autoencoder (conv-D) beside the MLP autoencoder (ae-D) and PCA (pca-D) at
each code size the catalogue has a convolutional one for (16 and 64): test MSE, conv / MLP, and each model's
parameter count. The models are the catalogue's, the ones the app serves; with --data-dir each is scored through
its own reconstruct (the Model interface), so all three kinds are scored by the same code.
"""

import argparse

import torch

from ae.data import load_mnist
from ae.pca import pca_test_mse
from ae.train import evaluate
from ae.zoo import load_zoo, size_figures

KINDS = (("conv", "conv"), ("MLP", "autoencoder"), ("PCA", "pca"))  # (column, catalogue kind)


def parameters(model) -> int:
    """Numbers the model holds: a network's parameters; PCA's k directions and the mean digit."""
    network = getattr(model, "network", None)
    if network is not None:
        return sum(p.numel() for p in network.parameters())
    return model.code_size * model.pca.components.shape[1] + model.pca.mean.numel()


@torch.inference_mode()
def test_mse(model, images: torch.Tensor, batch_size: int = 2000) -> float:
    """Mean squared error over every pixel of (N, 28, 28) uint8 test images, via model.reconstruct."""
    se = 0.0
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].float().div_(255)
        se += torch.sum((model.reconstruct(x).reshape(x.shape) - x) ** 2).item()
    return se / images.numel()


def conv_rows(zoo, test=None) -> list[dict]:
    """Each code size with a convolutional model: its, the MLP autoencoder's and PCA's test MSE and sizes."""
    rows = []
    for k in sorted(m.code_size for m in zoo.catalogue.models.values() if m.kind == "conv"):
        row = {"code_size": k}
        for column, kind in KINDS:
            model = zoo.by_size.get(k) if kind == "autoencoder" else zoo.catalogue.find(kind, k)
            if model is None:
                row[column] = None
                continue
            mse = test_mse(model, test.images) if test is not None else model.test_mse
            row[column] = {"name": model.name, "test_mse": mse, "parameters": parameters(model)}
        rows.append(row)
    return rows


def print_conv(rows: list[dict]) -> None:
    print("\n| code size | conv test MSE | MLP test MSE | PCA test MSE | conv / MLP | conv / PCA "
          "| conv params | MLP params | PCA numbers |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, m, p = (r[column] or {} for column, _ in KINDS)
        def cell(d):
            return f"{d['test_mse']:.5f} ({d['name']})" if d.get("test_mse") is not None else "-"
        def ratio(a, b):
            return f"{a['test_mse'] / b['test_mse']:.3f}" if a.get("test_mse") and b.get("test_mse") else "-"
        print(f"| {r['code_size']} | {cell(c)} | {cell(m)} | {cell(p)} | {ratio(c, m)} | {ratio(c, p)} "
              f"| {c.get('parameters', '-'):,} | {m.get('parameters', '-'):,} | {p.get('parameters', '-'):,} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root: score every model again on its test digits")
    args = p.parse_args()
    zoo = load_zoo()
    for problem in zoo.missing:
        print(f"not loaded: {problem}")
    rows = size_figures(zoo)
    test = None
    if args.data_dir:
        test = load_mnist(args.data_dir, train=False)
        for r in rows:
            r["autoencoder_test_mse"] = evaluate(zoo.by_size[r["code_size"]].network, test.images)
            r["pca_test_mse"] = pca_test_mse(zoo.pca, test.images, r["code_size"]) if zoo.pca else None
            r["ratio"] = r["autoencoder_test_mse"] / r["pca_test_mse"] if r["pca_test_mse"] else None
    print("| code size | autoencoder test MSE | PCA test MSE | autoencoder / PCA |\n|---|---|---|---|")
    for r in rows:
        pca = f"{r['pca_test_mse']:.5f} | {r['ratio']:.3f}" if r["pca_test_mse"] else "- | -"
        print(f"| {r['code_size']} | {r['autoencoder_test_mse']:.5f} | {pca} |")
    print_conv(conv_rows(zoo, test))


if __name__ == "__main__":
    main()

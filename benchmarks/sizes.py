"""Test MSE against code size, the autoencoders of weights/ beside PCA with as many components.

    python -m benchmarks.sizes --data-dir ../shared/data

With --data-dir, each model is scored again on the 10,000 test digits; without, the figures stored with
the artifacts are printed.
"""

import argparse

from ae.data import load_mnist
from ae.pca import pca_test_mse
from ae.train import evaluate
from ae.zoo import load_zoo, size_figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root: score every model again on its test digits")
    args = p.parse_args()
    zoo = load_zoo()
    for problem in zoo.missing:
        print(f"not loaded: {problem}")
    rows = size_figures(zoo)
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


if __name__ == "__main__":
    main()

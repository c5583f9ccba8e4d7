"""Do generated digits look like their class, and what does the denoising autoencoder add?

    python -m benchmarks.generation --data-dir ../shared/data

1. A judge independent of the autoencoder: a small network (784 -> 256 -> 10) trained here on MNIST's
   pixels, its own test accuracy printed. It labels 100 digits generated per class at temperature 1
   (codes drawn from that class's Gaussian, decoded by the served model) and 100 decoded from a plain
   standard normal: the share labelled as the requested class, per class.
2. Denoising on the 10,000 test digits: the MSE against the clean digits of the noisy input, of the plain
   autoencoder's reconstruction of it, of the denoising autoencoder's, and of a 3x3 median filter.
"""

import argparse

import torch
from torch import nn
from torch.nn import functional as F

from ae import judge as judges
from ae.data import load_mnist
from ae.noise import corrupt, median_filter
from ae.zoo import load_zoo

NOISES = [("gaussian", 0.3), ("gaussian", 0.5), ("salt_pepper", 0.2), ("salt_pepper", 0.3), ("occlusion", 8),
          ("occlusion", 12)]


def train_judge(train, test, epochs: int = 8) -> tuple[nn.Module, float]:
    """The pixel MLP (784 -> 256 -> 10), 8 epochs, seed 0: a judge of another shape than ae/judge.py's conv net."""
    return judges.train_judge(train, test, epochs=epochs, seed=0,
                             make=lambda: nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="MNIST root directory (default: $AE_DATA_DIR, else ./data)")
    p.add_argument("--per-class", type=int, default=100, help="generated digits per class (default 100)")
    args = p.parse_args()
    train, test = load_mnist(args.data_dir, train=True), load_mnist(args.data_dir, train=False)
    zoo = load_zoo()
    model, g = zoo.by_size[64].network, zoo.gaussians
    judge, accuracy = train_judge(train, test)
    print(f"judge (784-256-10 on pixels, 8 epochs): test accuracy {accuracy:.4f}\n")
    with torch.inference_mode():
        report(judge, model, g, zoo.denoiser.network, test, args.per_class)


def report(judge, model, g, dae, test, per_class: int) -> None:
    print("| requested class | labelled as that class, temperature 1 |\n|---|---|")
    shares = []
    for c in range(10):
        pictures = model.decode(g.sample(c, per_class, seed=c)).reshape(per_class, -1)
        shares.append(float((judge(pictures).argmax(1) == c).float().mean()))
        print(f"| {c} | {shares[-1]:.0%} |")
    print(f"| mean | {sum(shares) / 10:.1%} |")
    plain = model.decode(torch.randn(1000, 64, generator=torch.Generator().manual_seed(0))).reshape(1000, -1)
    counts = torch.bincount(judge(plain).argmax(1), minlength=10).tolist()
    print(f"\n1,000 codes from a standard normal, decoded: the judge's labels {counts}; mean pixel "
          f"{plain.mean():.3f} (test digits: {(test.images.float() / 255).mean():.3f})\n")

    clean = test.images.reshape(len(test), -1).float() / 255
    print("| noise | noisy input | plain autoencoder | denoising autoencoder | DAE / plain | 3x3 median filter |")
    print("|---|---|---|---|---|---|")
    for kind, strength in NOISES:
        noisy = corrupt(clean, kind, strength, torch.Generator().manual_seed(0))
        mse = {"noisy": F.mse_loss(noisy, clean).item(),
               "plain": F.mse_loss(model(noisy).reshape(clean.shape), clean).item(),
               "dae": F.mse_loss(dae(noisy).reshape(clean.shape), clean).item(),
               "median": F.mse_loss(torch.stack([median_filter(n).reshape(-1) for n in noisy]), clean).item()}
        print(f"| {kind} {strength} | {mse['noisy']:.4f} | {mse['plain']:.4f} | {mse['dae']:.4f} | "
              f"{mse['dae'] / mse['plain']:.2f} | {mse['median']:.4f} |", flush=True)


if __name__ == "__main__":
    main()

"""The classic PyTorch MNIST autoencoder tutorial, as written: the reference our trainer is measured against.

Kept faithful on purpose (DataLoader + ToTensor, per-sample PIL work, batch 128, Adam 1e-3, 10 epochs),
so `benchmarks/train_speed.py` compares against what learners actually run.
"""

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 64), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid())

    def forward(self, x):
        x = x.view(-1, 784)
        return self.decoder(self.encoder(x)).view(-1, 1, 28, 28)


def run(root: str, epochs: int = 10, log=print) -> float:
    """Train as the tutorial does; returns the test MSE over all test pixels."""
    transform = transforms.ToTensor()
    train_set = datasets.MNIST(root=root, train=True, download=False, transform=transform)
    test_set = datasets.MNIST(root=root, train=False, download=False, transform=transform)
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=128, shuffle=False)

    model = Autoencoder()
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        total = 0.0
        for images, _ in train_loader:
            outputs = model(images)
            loss = criterion(outputs, images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        log(f"Epoch [{epoch + 1}/{epochs}], Loss: {total / len(train_loader):.4f}")

    model.eval()
    se, n = 0.0, 0
    with torch.no_grad():
        for images, _ in test_loader:
            se += nn.functional.mse_loss(model(images), images, reduction="sum").item()
            n += images.numel()
    return se / n

"""The variational autoencoder: the plain one's layers, a Gaussian code, and its loss terms. No file or UI code.

The encoder gives each digit a mean and a log-variance per code dimension; training decodes a code drawn from
that Gaussian and pulls the Gaussian towards N(0, I) (the KL term), so any code drawn from N(0, I) decodes
to a digit. The decoder is dense layers only, so the page can run it as it runs the plain one (ae/export.py).

log_likelihood estimates log p(x) itself by importance sampling (the IWAE bound): tighter than the ELBO.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ae.model import NetworkConfig


@dataclass(frozen=True)
class VAEConfig(NetworkConfig):
    input_size: int = 784  # pixels of one flattened 28x28 MNIST digit
    hidden: int = 256  # width of the one hidden layer on each side
    code_size: int = 64  # dimensions of the code: the mean is the code the app shows
    beta: float = 1.0  # weight of the KL term in the training loss: 1 is the ELBO; more buys a smoother code

    def __post_init__(self):
        self.check_sizes()
        beta = self.beta
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 <= beta < math.inf:
            raise ValueError(f"beta must be a number of at least 0, got {beta!r}")


class VAE(nn.Module):
    """Encoder 784->256->(mean, log-variance) of D numbers; decoder D->256->784 with a sigmoid output."""

    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        self.config = config
        self.encoder = nn.Sequential(nn.Linear(config.input_size, config.hidden), nn.ReLU())
        self.mean = nn.Linear(config.hidden, config.code_size)
        self.logvar = nn.Linear(config.hidden, config.code_size)
        self.decoder = nn.Sequential(
            nn.Linear(config.code_size, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.input_size), nn.Sigmoid(),
        )

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, 28, 28) or (B, 784) pixels -> the code's Gaussian: mean and log-variance, each (B, D)."""
        h = self.encoder(x.reshape(x.shape[0], -1))
        return self.mean(h), self.logvar(h)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) or (B, 784) pixels -> (B, D) codes: the mean, the most likely code."""
        return self.posterior(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) codes -> (B, 784) logits, the decoder before its sigmoid (the loss reads these: stabler)."""
        return self.decoder[:-1](z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, D) codes -> (B, 1, 28, 28) pixels in [0, 1]."""
        side = self.config.side
        return self.decoder(z).reshape(z.shape[0], 1, side, side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction from the mean code: deterministic, and what test MSE measures."""
        return self.decode(self.encode(x))

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, D) codes drawn from the prior N(0, I); decoded, they are new digits."""
        return torch.randn(n, self.config.code_size, generator=generator, device=self.mean.weight.device)


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) in nats, per digit: (B, D) each -> (B,), never below 0."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(1)


def reconstruction_nll(model: VAE, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) in nats per digit under the decoder's Bernoulli pixels (MNIST's grey levels taken as
    probabilities, the usual reading): binary cross-entropy summed over the pixels. x (B, 784), z (B, D) -> (B,)."""
    return F.binary_cross_entropy_with_logits(model.decode_logits(z), x, reduction="none").sum(1)


def vae_loss(model: VAE, x: torch.Tensor) -> torch.Tensor:
    """The training loss of a (B, 784) batch: reconstruction + beta * KL per digit, averaged over the batch.
    The code is drawn with torch's global generator (reparameterised), which ae.train.fit seeds."""
    mean, logvar = model.posterior(x)
    z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
    return (reconstruction_nll(model, x, z) + model.config.beta * kl_divergence(mean, logvar)).mean()


def negative_elbo(model: VAE, x: torch.Tensor, samples: int = 0, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """-ELBO per digit, in nats: reconstruction + KL (beta 1, whatever the training beta), an upper bound on
    -log p(x) when averaged over drawn codes. (B, 28, 28) or (B, 784) pixels in [0, 1] -> (B,).
    samples=0 decodes the mean code (deterministic: a score for an outlier meter); samples=k averages k draws."""
    x = x.reshape(x.shape[0], -1)
    mean, logvar = model.posterior(x)
    if samples == 0:
        nll = reconstruction_nll(model, x, mean)
    else:
        std = (0.5 * logvar).exp()
        draws = [mean + std * torch.randn(mean.shape, generator=generator, device=mean.device) for _ in range(samples)]
        nll = torch.stack([reconstruction_nll(model, x, z) for z in draws]).mean(0)
    return nll + kl_divergence(mean, logvar)


LOG_2PI = math.log(2 * math.pi)


def log_likelihood(model: VAE, x: torch.Tensor, samples: int = 1000, generator: torch.Generator | None = None,
                   chunk: int = 100) -> torch.Tensor:
    """log p(x) per digit in nats, estimated by importance sampling with the encoder's Gaussian as proposal:
    log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q(. | x), K = samples (the IWAE bound; in expectation
    at least the ELBO, and it rises towards log p(x) as K grows; K=1 is one draw of the ELBO). p(x | z) is the
    decoder's Bernoulli pixels read as reconstruction_nll reads them. (B, 28, 28) or (B, 784) pixels in [0, 1]
    -> (B,); the draws are made `chunk` at a time to bound memory (chunk * B decodes at once)."""
    if samples < 1 or chunk < 1:
        raise ValueError(f"samples and chunk must be at least 1, got {samples} and {chunk}")
    x = x.reshape(x.shape[0], -1)
    mean, logvar = model.posterior(x)  # (B, D) each
    std = (0.5 * logvar).exp()
    log_weights = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        eps = torch.randn((k, *mean.shape), generator=generator, device=mean.device)  # (k, B, D)
        z = mean + std * eps
        log_q = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(-1)  # (k, B): (z - mean) / std is eps
        log_prior = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        nll = reconstruction_nll(model, x.expand(k, *x.shape).reshape(-1, x.shape[1]), z.reshape(-1, z.shape[-1]))
        log_weights.append(log_prior - log_q - nll.reshape(k, -1))
    return torch.logsumexp(torch.cat(log_weights), 0) - math.log(samples)

"""An MNIST autoencoder (784 -> 256 -> 64 -> 256 -> 784) and the tools around it."""

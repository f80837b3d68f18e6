"""rnnexp: a configuration-driven experiment runner for Keras RNNs."""

__version__ = "0.1.0"

"""Checks of the plain arguments API callers send (counts, seeds, choices), each refusal a sentence."""

import math

from ae.preprocess import InputError


def whole(name: str, value, low: int, high: int) -> int:
    """An int from low to high (a float with no fraction is accepted), else InputError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high}, got {str(value)[:40]!r}.")
    return int(value)


def number(name: str, value, low: float, high: float) -> float:
    """A finite number from low to high, else InputError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InputError(f"{name} must be a number from {low:g} to {high:g}, got {str(value)[:40]!r}.")
    return float(value)


def choice(name: str, value, options) -> str:
    """One of options, else InputError."""
    if not isinstance(value, str) or value not in options:
        raise InputError(f"{name} must be one of {', '.join(map(repr, options))}; got {str(value)[:40]!r}.")
    return value

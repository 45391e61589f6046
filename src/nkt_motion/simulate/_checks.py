"""Validation helpers for the scenario dataclasses (messages name the parameter)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from nkt_motion.errors import ValidationError, VocabularyError
from nkt_motion.vocab import muscle_code


def number(
    value: object,
    *,
    name: str,
    low: float | None = None,
    high: float | None = None,
    strict: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the bounds, else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError(
            f"{name} must be a number, got {type(value).__name__} {value!r}", parameter=name
        )
    x = float(value)
    if not math.isfinite(x):
        raise ValidationError(f"{name} must be finite, got {value!r}", parameter=name)
    if low is not None and (x <= low if strict else x < low):
        op = ">" if strict else ">="
        raise ValidationError(f"{name} must be {op} {low:g}, got {value!r}", parameter=name)
    if high is not None and x > high:
        raise ValidationError(f"{name} must be <= {high:g}, got {value!r}", parameter=name)
    return x


def integer(value: object, *, name: str, low: int, high: int) -> int:
    """Return ``value`` as an int in ``[low, high]``, else raise ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}", parameter=name
        )
    if not low <= int(value) <= high:
        raise ValidationError(
            f"{name} must be between {low} and {high}, got {value!r}", parameter=name
        )
    return int(value)


def choice(value: object, *, name: str, allowed: Iterable[object]) -> None:
    """Raise ValidationError unless ``value`` is one of ``allowed``."""
    options = tuple(allowed)
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        raise ValidationError(f"{name} must be one of {shown}, got {value!r}", parameter=name)


def code(value: object, *, name: str) -> str:
    """Return the canonical muscle code of ``value``, else raise ValidationError."""
    if not isinstance(value, str):
        raise ValidationError(
            f"{name} must be a muscle code such as 'GMED', got {value!r}", parameter=name
        )
    try:
        return muscle_code(value)
    except VocabularyError as exc:
        raise ValidationError(f"{name}: {exc}", parameter=name) from exc


def instance(value: object, cls: type, *, name: str) -> None:
    """Raise ValidationError unless ``value`` is an instance of ``cls``."""
    if not isinstance(value, cls):
        raise ValidationError(
            f"{name} must be a {cls.__name__}, got {type(value).__name__}", parameter=name
        )

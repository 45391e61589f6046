"""The live snapshot the dashboard shows, and the commands it may send.

A live controller (the guided retest session) hands the dashboard one JSON-ready
``dict`` per frame through :meth:`LiveController.snapshot`; the page sends back
the names in :data:`COMMANDS`. :func:`check_snapshot` holds a snapshot against
the exact schema, so the controller's tests and the dashboard's tests check
the same contract; :func:`example_snapshot` is one valid, mid-session snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeAlias, runtime_checkable

from nkt_motion.errors import ValidationError

__all__ = [
    "COMMANDS",
    "STATES",
    "LiveController",
    "UpdateSignal",
    "check_snapshot",
    "example_snapshot",
]

#: Commands the page sends; a controller raises ValidationError for one it does not allow now.
COMMANDS: Final[tuple[str, ...]] = (
    "trial_toggle",
    "trial_start",
    "trial_stop",
    "next",
    "skip",
    "repeat",
    "override",
    "stop",
)

#: Values of the snapshot's ``state``.
STATES: Final[tuple[str, ...]] = (
    "connecting",
    "running",
    "finishing",
    "finished",
    "stopped",
    "failed",
)


class LiveController(Protocol):
    """What the dashboard needs from a live session.

    Both methods are called from the asyncio loop that runs the dashboard, so
    they must return quickly and never block.

    A controller may also follow :class:`UpdateSignal` (an ``add_listener``
    method): the dashboard then sends a frame as soon as the controller says
    that its state changed (new samples processed, a command applied), at most
    20 frames a second, instead of waiting for its next fixed tick. Without it
    the dashboard polls :meth:`snapshot` at its fixed rate.

    Examples
    --------
    >>> class Still:
    ...     def snapshot(self) -> dict[str, Any]:
    ...         return example_snapshot()
    ...
    ...     def command(self, name: str, **args: Any) -> None:
    ...         raise ValidationError(f"{name} is not allowed now")
    >>> check_snapshot(Still().snapshot())
    """

    def snapshot(self) -> dict[str, Any]:
        """Return the current state as a JSON-ready dict (NaN already ``None``)."""
        ...

    def command(self, name: str, **args: Any) -> None:
        """Run one of :data:`COMMANDS`; raise ValidationError if unknown or not allowed now."""
        ...


@runtime_checkable
class UpdateSignal(Protocol):
    """The optional part of a :class:`LiveController`: it tells when its snapshot changed.

    Examples
    --------
    >>> class Ticking:
    ...     def __init__(self):
    ...         self.listeners = []
    ...
    ...     def add_listener(self, callback):
    ...         self.listeners.append(callback)
    ...         return lambda: self.listeners.remove(callback)
    ...
    ...     def step(self):
    ...         for callback in list(self.listeners):
    ...             callback()
    >>> source, seen = Ticking(), []
    >>> remove = source.add_listener(lambda: seen.append("new data"))
    >>> isinstance(source, UpdateSignal)
    True
    >>> source.step()
    >>> remove()
    >>> source.step()
    >>> seen
    ['new data']
    """

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after each change of the state; return a function removing it.

        The callback is called on the asyncio loop that runs the dashboard (the
        controller's own loop), must be quick and is not given any argument;
        calling the returned function more than once does nothing more.
        """
        ...


@dataclass(frozen=True, slots=True)
class _ListOf:
    item: Spec


@dataclass(frozen=True, slots=True)
class _MapOf:
    value: Spec


@dataclass(frozen=True, slots=True)
class _Null:
    inner: Spec


@dataclass(frozen=True, slots=True)
class _OneOf:
    values: tuple[str, ...]


Spec: TypeAlias = "type | tuple[type, ...] | dict[str, Spec] | _ListOf | _MapOf | _Null | _OneOf"

_NUM: Final = (int, float)
_OPT_NUM: Final = _Null(_NUM)
_OPT_STR: Final = _Null(str)
_ESTIMATE: Final[dict[str, Spec]] = {"ratio": _OPT_NUM, "ci": _ListOf(_OPT_NUM)}

_SNAPSHOT: Final[dict[str, Spec]] = {
    "seq": int,
    "t": _NUM,
    "state": _OneOf(STATES),
    "protocol": {
        "name": str,
        "title": str,
        "side": _OPT_STR,
        "tested": str,
        "partners": _ListOf(str),
    },
    "step": {
        "index": int,
        "count": int,
        "id": str,
        "kind": str,
        "title": str,
        "instruction": str,
        "event": _OPT_STR,
        "n_trials": _Null(int),
        "trials_done": int,
        "can_mark": bool,
        "blocked_reason": _OPT_STR,
    },
    "steps": _ListOf(
        {"id": str, "title": str, "status": _OneOf(("done", "current", "todo", "skipped"))}
    ),
    "trial": {"active": bool, "label": _OPT_STR, "elapsed_s": _OPT_NUM},
    "channels": _ListOf(
        {
            "label": str,
            "muscle": _OPT_STR,
            "level": _OPT_NUM,
            "normalised": bool,
            "quality": _OneOf(("ok", "warn", "bad")),
            "reason": str,
        }
    ),
    "ratios": _ListOf(
        {
            "partner": str,
            "current": _OPT_NUM,
            "previous": _OPT_NUM,
            "pre": _ListOf(_OPT_NUM),
            "post": _ListOf(_OPT_NUM),
        }
    ),
    "onsets": _Null({"label": str, "order": _ListOf(str), "delays_ms": _MapOf(_OPT_NUM)}),
    "angles": _ListOf({"name": str, "value": _OPT_NUM, "unit": str}),
    "sensors": _ListOf(
        {"id": str, "state": str, "packets": int, "lost": int, "drift_ppm": _OPT_NUM}
    ),
    "events": _ListOf({"onset": _NUM, "duration": _NUM, "label": str}),
    "verdict": _Null(
        {
            "tests": _ListOf(
                {
                    "tested": str,
                    "partner": str,
                    "verdict": str,
                    "reason": str,
                    "pre": _ESTIMATE,
                    "post": _ESTIMATE,
                    "change": _OPT_NUM,
                    "change_ci": _ListOf(_OPT_NUM),
                }
            )
        }
    ),
    "paths": _Null({"bids": _OPT_STR, "report": _OPT_STR, "pdf": _OPT_STR}),
    "messages": _ListOf(str),
}


def check_snapshot(snapshot: Any) -> None:
    """Raise if ``snapshot`` does not follow the dashboard's snapshot schema exactly.

    Every key must be present and no other key may be; numbers are ``int`` or
    ``float`` (never ``bool``) and measured values may be ``None`` where NaN
    would otherwise stand.

    Parameters
    ----------
    snapshot : dict
        What :meth:`LiveController.snapshot` returned.

    Raises
    ------
    ValidationError
        Naming the first offending path, e.g. ``snapshot['step']['can_mark']
        must be bool, got 'yes'``.

    Examples
    --------
    >>> snap = example_snapshot()
    >>> check_snapshot(snap)
    >>> snap["step"]["can_mark"] = "yes"
    >>> check_snapshot(snap)
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ValidationError: snapshot['step']['can_mark'] must be bool, got 'yes'
    """
    _check(snapshot, _SNAPSHOT, "snapshot")


def _check(value: Any, spec: Spec, path: str) -> None:
    if isinstance(spec, _Null):
        if value is not None:
            _check(value, spec.inner, path)
    elif isinstance(spec, dict):
        _check_dict(value, spec, path)
    elif isinstance(spec, _ListOf):
        if not isinstance(value, list):
            _fail(path, "a list", value)
        for i, item in enumerate(value):
            _check(item, spec.item, f"{path}[{i}]")
    elif isinstance(spec, _MapOf):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            _fail(path, "a dict with str keys", value)
        for key, item in value.items():
            _check(item, spec.value, f"{path}[{key!r}]")
    elif isinstance(spec, _OneOf):
        if value not in spec.values:
            _fail(path, f"one of {', '.join(spec.values)}", value)
    elif not isinstance(value, spec) or (isinstance(value, bool) and spec is not bool):
        _fail(path, _type_name(spec), value)


def _check_dict(value: Any, spec: dict[str, Spec], path: str) -> None:
    if not isinstance(value, dict):
        _fail(path, "a dict", value)
    missing = [k for k in spec if k not in value]
    extra = [k for k in value if k not in spec]
    if missing or extra:
        raise ValidationError(
            f"{path} must have exactly the keys {sorted(spec)}; "
            f"missing {missing}, unexpected {extra}",
            parameter="snapshot",
        )
    for key, sub in spec.items():
        _check(value[key], sub, f"{path}[{key!r}]")


def _type_name(spec: type | tuple[type, ...]) -> str:
    if isinstance(spec, tuple):
        return "a number" if spec == _NUM else " or ".join(t.__name__ for t in spec)
    return spec.__name__


def _fail(path: str, expected: str, value: Any) -> None:
    raise ValidationError(f"{path} must be {expected}, got {value!r}", parameter="snapshot")


def example_snapshot() -> dict[str, Any]:
    """Return one valid snapshot: the pre-correction test of gluteus medius, trial 2 of 5.

    Returns
    -------
    dict
        A fresh dict each call (callers may change it).

    Examples
    --------
    >>> snap = example_snapshot()
    >>> snap["step"]["title"], [c["muscle"] for c in snap["channels"]]
    ('Before: test gluteus medius', ['GMED', 'ADL'])
    """
    steps = [
        ("sensor_check", "Check the sensors", "done"),
        ("rest", "Quiet standing", "done"),
        ("pre_test", "Before: test gluteus medius", "current"),
        ("correction", "Correction", "todo"),
        ("post_test", "After: test gluteus medius", "todo"),
    ]
    return {
        "seq": 412,
        "t": 95.2,
        "state": "running",
        "protocol": {
            "name": "hip_flexion_gmed_adl",
            "title": "Standing hip flexion: gluteus medius vs adductor longus",
            "side": "L",
            "tested": "GMED",
            "partners": ["ADL"],
        },
        "step": {
            "index": 2,
            "count": len(steps),
            "id": "pre_test",
            "kind": "test",
            "title": "Before: test gluteus medius",
            "instruction": "Lift the knee to hip height, hold for a moment, put the foot down.",
            "event": "pre/test/GMED",
            "n_trials": 5,
            "trials_done": 1,
            "can_mark": True,
            "blocked_reason": None,
        },
        "steps": [{"id": i, "title": t, "status": s} for i, t, s in steps],
        "trial": {"active": True, "label": "pre/test/GMED", "elapsed_s": 1.4},
        "channels": [
            _channel("EMG GMED L", "GMED", 0.42, "ok", ""),
            _channel("EMG ADL L", "ADL", 0.61, "warn", "mains hum above 10 % of power"),
        ],
        "ratios": [
            {"partner": "ADL", "current": 0.69, "previous": 0.74, "pre": [0.74], "post": []}
        ],
        "onsets": {
            "label": "pre/test/GMED",
            "order": ["ADL", "GMED"],
            "delays_ms": {"ADL": 0.0, "GMED": 85.0},
        },
        "angles": [{"name": "pelvic_drop", "value": 4.1, "unit": "deg"}],
        "sensors": [
            {
                "id": "nkt-emg-1",
                "state": "streaming",
                "packets": 9520,
                "lost": 3,
                "drift_ppm": 41.0,
            }
        ],
        "events": [
            {"onset": 12.0, "duration": 10.0, "label": "rest"},
            {"onset": 80.3, "duration": 3.1, "label": "pre/test/GMED"},
        ],
        "verdict": None,
        "paths": None,
        "messages": ["Trial 2 of 5: lift now"],
    }


def _channel(label: str, muscle: str, level: float, quality: str, reason: str) -> dict[str, Any]:
    return {
        "label": label,
        "muscle": muscle,
        "level": level,
        "normalised": True,
        "quality": quality,
        "reason": reason,
    }

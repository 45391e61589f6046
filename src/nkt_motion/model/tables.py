"""The tabular parts of a Session: events, gaps and quality.

Each table is a :class:`pandas.DataFrame` with fixed columns, built and checked
by the functions here so that every reader, the simulator and the acquisition
engine produce the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import pandas as pd

from nkt_motion.errors import ValidationError
from nkt_motion.vocab import parse_event_label

__all__ = [
    "EVENT_COLUMNS",
    "GAP_COLUMNS",
    "QUALITY_COLUMNS",
    "make_events",
    "make_gaps",
    "make_quality",
]

#: Columns of ``Session.events``: onset and duration in seconds on the session
#: clock, the event label, and the phase and muscle id parsed from it.
EVENT_COLUMNS: Final[tuple[str, ...]] = ("onset", "duration", "label", "phase", "muscle")
#: Columns of ``Session.gaps``: the stream, the channel (empty for every channel
#: of the stream), onset and duration in seconds, and why samples are missing.
GAP_COLUMNS: Final[tuple[str, ...]] = ("stream", "channel", "onset", "duration", "reason")
#: Columns of ``Session.quality``: one row per check and channel.
QUALITY_COLUMNS: Final[tuple[str, ...]] = (
    "stream",
    "channel",
    "check",
    "value",
    "threshold",
    "ok",
    "reason",
)


def _float_column(values: Iterable[float], *, table: str, column: str) -> NDArrayF:
    try:
        arr = np.asarray(list(values), dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{table}: column {column!r} must hold numbers", parameter=column
        ) from None
    if not np.isfinite(arr).all():
        raise ValidationError(
            f"{table}: column {column!r} holds NaN or infinite values", parameter=column
        )
    return arr


NDArrayF = np.ndarray[tuple[int], np.dtype[np.float64]]


def make_events(
    onset: Sequence[float] | NDArrayF,
    duration: Sequence[float] | NDArrayF,
    label: Sequence[str],
) -> pd.DataFrame:
    """Build a validated events table.

    Parameters
    ----------
    onset : sequence of float, shape (n_events,)
        Start of each event in seconds on the session clock.
    duration : sequence of float, shape (n_events,)
        Length of each event in seconds, >= 0.
    label : sequence of str, shape (n_events,)
        Event labels (``rest``, ``ref/<CODE>``, ``pre/test/<CODE>``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns ``onset``, ``duration``, ``label``, ``phase``, ``muscle``, sorted by
        onset (stable), with a fresh integer index. Labels are canonicalised
        (``pre/test/gmed`` becomes ``pre/test/GMED``).

    Raises
    ------
    ValidationError
        If the lengths differ or a number is missing or negative.
    VocabularyError
        If a label does not follow the conventions.

    Examples
    --------
    >>> make_events([1.0, 0.0], [2.0, 1.0], ["pre/test/GMED", "rest"]).label.tolist()
    ['rest', 'pre/test/GMED']
    """
    on = _float_column(onset, table="events", column="onset")
    du = _float_column(duration, table="events", column="duration")
    labels = [str(x) for x in label]
    if not len(on) == len(du) == len(labels):
        raise ValidationError(
            f"events: onset, duration and label must have the same length, got "
            f"{len(on)}, {len(du)} and {len(labels)}",
            parameter="label",
        )
    if (du < 0).any():
        raise ValidationError("events: durations must be >= 0", parameter="duration")
    parsed = [parse_event_label(x) for x in labels]
    df = pd.DataFrame(
        {
            "onset": on,
            "duration": du,
            "label": pd.Series([p.label for p in parsed], dtype=object),
            "phase": pd.Series([p.phase for p in parsed], dtype=object),
            "muscle": pd.Series([p.muscle for p in parsed], dtype=object),
        },
        columns=list(EVENT_COLUMNS),
    )
    return df.sort_values("onset", kind="stable").reset_index(drop=True)


def make_gaps(
    stream: Sequence[str],
    channel: Sequence[str],
    onset: Sequence[float] | NDArrayF,
    duration: Sequence[float] | NDArrayF,
    reason: Sequence[str],
) -> pd.DataFrame:
    """Build a validated gap table.

    Parameters
    ----------
    stream : sequence of str, shape (n_gaps,)
        Stream each gap belongs to.
    channel : sequence of str, shape (n_gaps,)
        Channel name, or ``""`` when the whole stream is missing.
    onset, duration : sequence of float, shape (n_gaps,)
        Start and length in seconds on the session clock.
    reason : sequence of str, shape (n_gaps,)
        Why the samples are missing (``"packet loss: 3 packets"``, ``"disconnect"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``stream``, ``channel``, ``onset``, ``duration``, ``reason``,
        sorted by stream and onset.

    Examples
    --------
    >>> make_gaps(["emg"], [""], [1.5], [0.02], ["packet loss"]).shape
    (1, 5)
    """
    on = _float_column(onset, table="gaps", column="onset")
    du = _float_column(duration, table="gaps", column="duration")
    cols = [list(map(str, stream)), list(map(str, channel)), list(map(str, reason))]
    if not all(len(c) == len(on) for c in cols) or len(du) != len(on):
        raise ValidationError("gaps: all columns must have the same length", parameter="onset")
    if (du < 0).any():
        raise ValidationError("gaps: durations must be >= 0", parameter="duration")
    df = pd.DataFrame(
        {
            "stream": pd.Series(cols[0], dtype=object),
            "channel": pd.Series(cols[1], dtype=object),
            "onset": on,
            "duration": du,
            "reason": pd.Series(cols[2], dtype=object),
        },
        columns=list(GAP_COLUMNS),
    )
    return df.sort_values(["stream", "onset"], kind="stable").reset_index(drop=True)


def make_quality(rows: Iterable[dict[str, object]] = ()) -> pd.DataFrame:
    """Build a quality table from row dictionaries.

    Parameters
    ----------
    rows : iterable of dict
        Each with the keys of :data:`QUALITY_COLUMNS`: ``stream``, ``channel``,
        ``check`` (e.g. ``"flat_line"``), ``value``, ``threshold``, ``ok`` (bool)
        and ``reason`` (plain words, empty when ok).

    Returns
    -------
    pandas.DataFrame
        The table, with exactly those columns.

    Raises
    ------
    ValidationError
        If a row lacks a column.

    Examples
    --------
    >>> make_quality([{"stream": "emg", "channel": "EMG GMED L", "check": "flat_line",
    ...                "value": 12.0, "threshold": 1.0, "ok": True, "reason": ""}]).shape
    (1, 7)
    """
    rows = list(rows)
    for r in rows:
        missing = [c for c in QUALITY_COLUMNS if c not in r]
        if missing:
            raise ValidationError(f"quality row lacks columns {missing}", parameter="rows")
    df = pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))
    df["ok"] = df["ok"].astype(bool)
    df["value"] = df["value"].astype(np.float64)
    df["threshold"] = df["threshold"].astype(np.float64)
    return df


def check_table(df: pd.DataFrame, columns: Sequence[str], *, table: str) -> pd.DataFrame:
    """Check that a DataFrame has the columns of a session table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    columns : sequence of str
        Required columns.
    table : str
        Name of the table for messages.

    Returns
    -------
    pandas.DataFrame
        A shallow (copy-on-write) copy holding exactly those columns.

    Examples
    --------
    >>> check_table(make_events([], [], []), EVENT_COLUMNS, table="events").shape
    (0, 5)
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(
            f"{table} must be a pandas DataFrame, got {type(df).__name__}", parameter=table
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(
            f"{table} table lacks columns {missing} (expected {list(columns)})", parameter=table
        )
    return df.loc[:, list(columns)].copy()

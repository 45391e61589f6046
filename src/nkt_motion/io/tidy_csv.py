"""Tidy CSV recordings: a ``time`` column and one column per channel.

File layout (``<stem>`` is the file name without ``.csv`` / ``.csv.gz``)
-----------------------------------------------------------------------
``<stem>.csv``
    Column ``time`` in seconds on the session clock, uniformly spaced and
    strictly increasing; then one column per channel, named with a conventional
    label (``EMG GMED L``, ``ACC X pelvis``, ``FORCE load``). Empty cells or
    ``NaN`` are missing samples: each run becomes a row of ``Session.gaps``
    (reason ``"missing in CSV"``) and stays NaN in the data.
``<stem>_channels.tsv`` (optional)
    Tab-separated, columns ``name`` and ``units`` (and optionally
    ``placement``). Channels not listed get the default unit of their kind:
    EMG ``uV``, ACC ``m/s^2``, GYR ``deg/s``, MAG ``uT``, QUAT ``1``, ANGLE
    ``deg``, FORCE ``N``.
``<stem>_events.csv`` (optional)
    Columns ``onset``, ``duration`` (s) and ``label``; labels starting with
    ``BAD_gap`` are gap rows (see :mod:`nkt_motion.io._common`).
``<stem>.json`` (optional)
    Keys ``subject``, ``session``, ``SamplingFrequency`` (checked against the
    time column) and ``meta`` (an object copied into ``Session.meta``).
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from nkt_motion.errors import FileFormatError
from nkt_motion.io._common import DEFAULT_UNITS, apply_gaps, group_streams, nan_gaps
from nkt_motion.io.edf import channels_from_labels, split_annotations
from nkt_motion.model import Channel, Session
from nkt_motion.vocab import parse_channel_label

__all__ = ["csv_stem", "read_csv", "read_table"]

#: pandas < 3 needs to be asked for exact float parsing; pandas 3 does it by
#: default and deprecates the option.
_EXACT_FLOATS: dict[str, Any] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)

_READ_ERRORS = (
    pd.errors.ParserError,
    pd.errors.EmptyDataError,
    UnicodeDecodeError,
    EOFError,
    gzip.BadGzipFile,
    zlib.error,
    OSError,
)


def csv_stem(path: Path) -> str:
    """Return a CSV file's name without ``.csv`` or ``.csv.gz``.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        The stem.

    Examples
    --------
    >>> csv_stem(Path("a/rec.csv.gz"))
    'rec'
    """
    name = path.name
    for suffix in (".csv.gz", ".csv", ".tsv"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def read_table(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV/TSV file with pandas, turning parse failures into FileFormatError.

    Parameters
    ----------
    path : Path
        The file (``.gz`` is decompressed).
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
        The table. A float written with full precision reads back bit for bit:
        pandas 3 parses exactly by default, and pandas 2 is asked for
        ``float_precision="round_trip"`` (its default fast parser can be off by
        one unit in the last place).

    Raises
    ------
    FileFormatError
        If the file is missing, empty, truncated or malformed.

    Examples
    --------
    >>> read_table(Path("absent.csv"))
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: absent.csv: file does not exist
    """
    if not path.is_file():
        raise FileFormatError("file does not exist", path=path)
    try:
        out: pd.DataFrame = pd.read_csv(path, **{**_EXACT_FLOATS, **kwargs})
    except _READ_ERRORS as exc:
        raise FileFormatError(f"cannot parse the table ({exc})", path=path) from None
    return out


def _times_and_rate(df: pd.DataFrame, path: Path) -> tuple[float, float]:
    if "time" not in df.columns:
        raise FileFormatError(f"no 'time' column; columns are {list(df.columns)}", path=path)
    t = pd.to_numeric(df["time"], errors="coerce").to_numpy(dtype=float)
    if len(t) < 2 or not np.isfinite(t).all():
        raise FileFormatError("column 'time' needs >= 2 finite numbers", path=path)
    dt = np.diff(t)
    if (dt <= 0).any():
        i = int(np.argmax(dt <= 0))
        raise FileFormatError(
            f"column 'time' must increase strictly; row {i + 2} ({t[i + 1]}) follows {t[i]}",
            path=path,
        )
    step = (t[-1] - t[0]) / (len(t) - 1)
    if np.abs(dt - step).max() > 0.01 * step + 1e-9:
        raise FileFormatError(
            f"column 'time' is not uniformly spaced (steps from {dt.min():g} to "
            f"{dt.max():g} s); resample first",
            path=path,
        )
    fs = 1.0 / step
    return float(t[0]), float(round(fs) if abs(fs - round(fs)) < 1e-6 * fs else fs)


def _units(path: Path, labels: list[str]) -> tuple[list[str], dict[str, str]]:
    side = path.with_name(csv_stem(path) + "_channels.tsv")
    table = read_table(side, sep="\t", dtype=str) if side.is_file() else None
    units, placement = {}, {}
    if table is not None:
        if not {"name", "units"} <= set(table.columns):
            raise FileFormatError("needs columns 'name' and 'units'", path=side)
        units = dict(zip(table["name"], table["units"], strict=True))
        if "placement" in table.columns:
            placement = dict(zip(table["name"], table["placement"].fillna(""), strict=True))
    out = []
    for label in labels:
        if label not in units:
            try:
                kind = parse_channel_label(label).kind
            except ValueError as exc:
                raise FileFormatError(str(exc), path=path, channel=label) from None
            units[label] = DEFAULT_UNITS[kind]
        out.append(units[label])
    return out, {k: v for k, v in placement.items() if v}


def _columns(df: pd.DataFrame, labels: list[str], path: Path) -> list[NDArray[np.float64]]:
    rows = []
    for label in labels:
        col = df[label]
        values = pd.to_numeric(col, errors="coerce")
        bad = values.isna() & col.notna()
        if bad.any():
            raise FileFormatError(
                f"non-numeric value {col[bad].iloc[0]!r} in row {int(np.argmax(bad)) + 2}",
                path=path,
                channel=label,
            )
        rows.append(values.to_numpy(dtype=np.float64))
    return rows


def _sidecar(path: Path) -> dict[str, Any]:
    side = path.with_name(csv_stem(path) + ".json")
    if not side.is_file():
        return {}
    try:
        out = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"invalid JSON ({exc})", path=side) from None
    if not isinstance(out, dict):
        raise FileFormatError("must hold a JSON object", path=side)
    return out


def read_csv(path: str | Path) -> Session:
    r"""Read a tidy CSV recording (see the module notes for the layout).

    Parameters
    ----------
    path : str or Path
        The ``.csv`` or ``.csv.gz`` file.

    Returns
    -------
    Session
        One stream per kind group (``emg``, ``imu``, ``force``, ``angle``), all at
        the rate of the time column and starting at its first value; NaN runs as
        gaps; events from ``<stem>_events.csv``.

    Raises
    ------
    FileFormatError
        Missing or malformed file, no or non-monotonic or non-uniform ``time``,
        unconventional label, unit not fitting the kind, non-numeric value, or a
        ``SamplingFrequency`` in ``<stem>.json`` that disagrees with ``time``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "rec.csv"
    ...     _ = p.write_text("time,EMG GMED L\n0.0,1.5\n0.001,2.5\n0.002,\n")
    ...     s = read_csv(p)
    >>> s["emg"].fs, len(s.gaps)
    (1000.0, 1)
    """
    p = Path(path)
    df = read_table(p)
    t0, fs = _times_and_rate(df, p)
    side = _sidecar(p)
    declared = side.get("SamplingFrequency")
    if declared is not None and not np.isclose(float(declared), fs, rtol=1e-6):
        raise FileFormatError(
            f"SamplingFrequency {declared} Hz in the sidecar differs from the time column "
            f"({fs:g} Hz)",
            path=p,
        )
    labels = [str(c) for c in df.columns if c != "time"]
    units, placement = _units(p, labels)
    channels = channels_from_labels(labels, units, path=p)
    channels = [c if c.name not in placement else _placed(c, placement[c.name]) for c in channels]
    streams = group_streams(channels, _columns(df, labels, p), [fs] * len(labels), t0=t0)
    gaps = pd.concat([nan_gaps(s, reason="missing in CSV") for s in streams.values()])
    events = None
    ev_path = p.with_name(csv_stem(p) + "_events.csv")
    if ev_path.is_file():
        ev = read_table(ev_path)
        if not {"onset", "duration", "label"} <= set(ev.columns):
            raise FileFormatError("needs columns onset, duration, label", path=ev_path)
        ann = ev.rename(columns={"label": "text"})[["onset", "duration", "text"]]
        events, extra, _ = split_annotations(ann.astype({"text": str}), path=ev_path)
        streams = apply_gaps(streams, extra, path=ev_path)
        gaps = pd.concat([gaps, extra])
    meta = {"source": str(p), **dict(side.get("meta", {}))}
    return Session(
        streams,
        events=events,
        gaps=gaps.reset_index(drop=True),
        subject=str(side.get("subject", "01")),
        session_id=str(side.get("session", "01")),
        meta=meta,
    )


def _placed(channel: Channel, placement: str) -> Channel:
    return replace(channel, placement=placement)

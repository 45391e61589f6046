"""Readers for the two real datasets shipped in ``data/samples/real``.

``santuz_walking``
    One treadmill-walking trial, 13 right-leg muscles at 1 kHz (Santuz et al.,
    iScience 2019, doi:10.1016/j.isci.2019.100796; MIT licence).
``elderly_isometric``
    Isometric holds of 30 older adults: 4 EMG channels at 2 kHz on the dominant
    leg plus a load cell (Silva et al., Biomed Signal Process Control 88 (2024)
    105635, doi:10.1016/j.bspc.2023.105635; CC0).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from nkt_motion.errors import FileFormatError, NktMotionError
from nkt_motion.io.tidy_csv import read_table
from nkt_motion.model import Channel, Session, Stream, make_events
from nkt_motion.vocab import format_emg_label, muscle_code, muscle_id

__all__ = [
    "read_elderly_cohort",
    "read_elderly_hold",
    "read_santuz_walking",
    "sample_root",
]

#: Column of ``emg.csv`` -> vocabulary code.
SANTUZ_CODES: Final[dict[str, str]] = {
    "ME": "GMED", "MA": "GMAX", "FL": "TFL", "RF": "RF", "VM": "VM", "VL": "VL", "ST": "ST",
    "BF": "BF", "TA": "TA", "PL": "PL", "GM": "MG", "GL": "LG", "SO": "SOL",
}  # fmt: skip
ELDERLY_MUSCLES: Final = (
    "vastus_lateralis",
    "biceps_femoris",
    "tibialis_anterior",
    "gastrocnemius_lateralis",
)
_HOLD_RE: Final = re.compile(r"^sub-(\d+)_task-([a-z_]+)\.csv(\.gz)?$")


def sample_root() -> Path:
    """Locate ``data/samples/real`` in the source checkout.

    Returns
    -------
    Path
        The folder, found by walking up from this package file.

    Raises
    ------
    FileFormatError
        If no parent folder holds ``data/samples/real`` (an installed wheel does
        not ship the samples).

    Examples
    --------
    >>> (sample_root() / "santuz_walking" / "emg.csv").is_file()
    True
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "data" / "samples" / "real"
        if cand.is_dir():
            return cand
    raise FileFormatError(
        "data/samples/real not found above the package; the real samples ship with the "
        "source checkout only",
        path=here,
    )


def read_santuz_walking(path: str | Path | None = None) -> Session:
    """Read the Santuz treadmill-walking trial.

    Parameters
    ----------
    path : str or Path, optional
        The ``santuz_walking`` folder or its ``emg.csv``; default: the shipped sample.

    Returns
    -------
    Session
        Stream ``emg``: 13 channels ``EMG <CODE> R`` in uV at 1000 Hz, t0 = 0.014 s
        (the first time stamp). Events: 6 ``stance`` (touchdown -> lift-off) and 5
        ``swing`` (lift-off -> next touchdown; the last lift-off has no recorded
        next touchdown). Meta: task ``walking``, source and licence.

    Raises
    ------
    FileFormatError
        If a file is missing or its columns are not the expected ones.

    Examples
    --------
    >>> s = read_santuz_walking()
    >>> s["emg"].n_channels, s["emg"].fs, round(s["emg"].t0, 3)
    (13, 1000.0, 0.014)
    """
    p = sample_root() / "santuz_walking" if path is None else Path(path)
    folder = p.parent if p.is_file() else p
    emg = read_table(folder / "emg.csv")
    cols = [c for c in emg.columns if c != "time"]
    if "time" not in emg.columns or set(cols) != set(SANTUZ_CODES):
        raise FileFormatError(
            f"expected columns time + {list(SANTUZ_CODES)}, got {list(emg.columns)}",
            path=folder / "emg.csv",
        )
    t = emg["time"].to_numpy(float)
    chans = tuple(
        Channel(format_emg_label(SANTUZ_CODES[c], "R"), "emg", "uV", muscle=SANTUZ_CODES[c],
                side="R")
        for c in cols
    )  # fmt: skip
    stream = Stream("emg", emg[cols].to_numpy(float).T, 1000.0, chans, t0=float(t[0]))
    cyc = read_table(folder / "cycles.csv")
    td, lo = cyc["touchdown_s"].to_numpy(float), cyc["liftoff_s"].to_numpy(float)
    onset = np.concatenate([td, lo[:-1]])
    dur = np.concatenate([lo - td, td[1:] - lo[:-1]])
    labels = ["stance"] * len(td) + ["swing"] * (len(td) - 1)
    meta = {
        "task": "walking",
        "source": "Santuz et al. 2019, musclesyneRgies RAW_DATA trial ID0012_TW_01",
        "licence": "MIT, copyright 2021 Alessandro Santuz",
        "doi": "10.1016/j.isci.2019.100796",
    }
    return Session([stream], events=make_events(onset, dur, labels), subject="ID0012",
                   meta=meta)  # fmt: skip


def _hold_file(path_or_root: Path, subject: str | None, task: str | None) -> Path:
    if path_or_root.is_file():
        return path_or_root
    if subject is None or task is None:
        raise FileFormatError(
            "a dataset root needs subject=... and task=... (a muscle id or code)",
            path=path_or_root,
        )
    try:
        mid = muscle_id(task)
    except NktMotionError as exc:
        raise FileFormatError(str(exc), path=path_or_root) from None
    return path_or_root / f"sub-{int(subject):02d}_task-{mid}.csv.gz"


def _participant(root: Path, subject: str) -> dict[str, Any]:
    table = read_table(root / "participants.csv", dtype={"subject": str})
    row = table[table["subject"] == subject]
    if row.empty:
        raise FileFormatError(f"no participant {subject!r}", path=root / "participants.csv")
    rec = row.iloc[0]
    return {
        "age": float(rec["age_years"]),
        "weight": float(rec["weight_kg"]),
        "height": float(rec["height_cm"]),
        "berg_balance_score": float(rec["berg_balance_score"]),
    }


def read_elderly_hold(
    path_or_root: str | Path | None = None,
    *,
    subject: str | None = None,
    task: str | None = None,
) -> Session:
    """Read one isometric hold of the older-adults dataset.

    Parameters
    ----------
    path_or_root : str or Path, optional
        A ``sub-NN_task-<muscle>.csv.gz`` file, or the dataset folder together with
        ``subject`` and ``task``; default: the shipped sample folder.
    subject : str, optional
        Participant number (``"05"`` or ``"5"``), with a folder.
    task : str, optional
        Held muscle, id or code (``"vastus_lateralis"``, ``"VL"``), with a folder.

    Returns
    -------
    Session
        Stream ``emg``: 4 channels ``EMG <VL|BF|TA|LG> R`` in uV at 2000 Hz
        (the source records the dominant leg without its side; ``R`` stands in
        and ``meta["side_note"]`` says so). Stream ``force``: ``FORCE load`` in
        kgf. One event ``ref/<CODE>`` spanning the whole hold. Meta: task
        ``hold<CODE>``, the held muscle, age (years), weight (kg), height (cm),
        ``berg_balance_score``.

    Raises
    ------
    FileFormatError
        If the file, the participant or a column is missing.

    Examples
    --------
    >>> s = read_elderly_hold(subject="05", task="VL")
    >>> s["emg"].fs, s["emg"].duration, s.events.label.tolist()
    (2000.0, 5.0005, ['ref/VL'])
    """
    root = sample_root() / "elderly_isometric" if path_or_root is None else Path(path_or_root)
    file = _hold_file(root, subject, task)
    m = _HOLD_RE.match(file.name)
    if m is None:
        raise FileFormatError("name must be sub-NN_task-<muscle>.csv.gz", path=file)
    sub, code = m.group(1), _code(m.group(2), file)
    table = read_table(file)
    need = [*ELDERLY_MUSCLES, "force_kgf"]
    if list(table.columns) != need:
        raise FileFormatError(f"expected columns {need}, got {list(table.columns)}", path=file)
    chans = tuple(
        Channel(format_emg_label(mu, "R"), "emg", "uV", muscle=mu, side="R")
        for mu in ELDERLY_MUSCLES
    )
    emg = Stream("emg", table[list(ELDERLY_MUSCLES)].to_numpy(float).T, 2000.0, chans)
    force = Stream("force", table[["force_kgf"]].to_numpy(float).T, 2000.0,
                   (Channel("FORCE load", "force", "kgf"),))  # fmt: skip
    meta = {
        "task": f"hold{code}",
        "held_muscle": muscle_id(code),
        "side_note": "dominant leg, side unknown in the source; R stands in",
        "source": "Silva et al. 2024, doi:10.1016/j.bspc.2023.105635 (CC0)",
        **_participant(file.parent, sub),
    }
    events = make_events([0.0], [emg.duration], [f"ref/{code}"])
    return Session([emg, force], events=events, subject=sub, meta=meta)


def _code(task: str, path: Path) -> str:
    try:
        return muscle_code(task)
    except NktMotionError as exc:
        raise FileFormatError(str(exc), path=path) from None


def read_elderly_cohort(root: str | Path | None = None) -> Iterator[Session]:
    """Yield every hold of the older-adults dataset, one Session each.

    Parameters
    ----------
    root : str or Path, optional
        The dataset folder; default: the shipped sample.

    Yields
    ------
    Session
        As :func:`read_elderly_hold`, in file-name order (subject, then muscle).

    Examples
    --------
    >>> first = next(read_elderly_cohort())
    >>> first.subject, first.meta["task"]
    ('01', 'holdBF')
    """
    folder = sample_root() / "elderly_isometric" if root is None else Path(root)
    files = sorted(p for p in folder.glob("sub-*_task-*.csv*") if _HOLD_RE.match(p.name))
    if not files:
        raise FileFormatError("no sub-NN_task-<muscle>.csv.gz files", path=folder)
    for f in files:
        yield read_elderly_hold(f)


def is_santuz_folder(path: Path) -> bool:
    """Tell whether a folder looks like the Santuz walking sample.

    Parameters
    ----------
    path : Path
        A folder.

    Returns
    -------
    bool
        True when it holds ``emg.csv`` and ``cycles.csv``.

    Examples
    --------
    >>> is_santuz_folder(sample_root() / "santuz_walking")
    True
    """
    return (path / "emg.csv").is_file() and (path / "cycles.csv").is_file()


def is_elderly_file(path: Path) -> bool:
    """Tell whether a file looks like an older-adults hold.

    Parameters
    ----------
    path : Path
        A file.

    Returns
    -------
    bool
        True for ``sub-NN_task-<muscle>.csv[.gz]`` beside a ``participants.csv``.

    Examples
    --------
    >>> is_elderly_file(Path("sub-01_task-biceps_femoris.csv.gz"))
    False
    """
    return bool(_HOLD_RE.match(path.name)) and (path.parent / "participants.csv").is_file()

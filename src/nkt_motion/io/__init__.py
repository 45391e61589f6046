"""File input and output: BIDS-EMG, EDF/BDF, tidy CSV and the shipped real datasets.

:func:`read` dispatches on what the path is, as MNE's ``read_raw`` does;
:func:`write_bids` writes a session as a BIDS 1.11 EMG folder.
"""

from __future__ import annotations

from pathlib import Path

from nkt_motion.errors import FileFormatError
from nkt_motion.io.bids import write_bids
from nkt_motion.io.bids_read import find_bids_sessions, read_bids
from nkt_motion.io.edf import read_edf
from nkt_motion.io.real import (
    is_elderly_file,
    is_santuz_folder,
    read_elderly_cohort,
    read_elderly_hold,
    read_santuz_walking,
    sample_root,
)
from nkt_motion.io.tidy_csv import read_csv
from nkt_motion.model import Session

__all__ = [
    "SUPPORTED",
    "read",
    "read_bids",
    "read_csv",
    "read_edf",
    "read_elderly_cohort",
    "read_elderly_hold",
    "read_santuz_walking",
    "sample_root",
    "write_bids",
]

#: What :func:`read` accepts, for messages.
SUPPORTED = (
    "a BIDS-EMG dataset root, a sub-<s> or sub-<s>/ses-<x> folder or an _emg.bdf inside one; "
    "a plain .edf/.bdf file; a tidy .csv/.csv.gz file; the santuz_walking folder or its "
    "emg.csv; an elderly_isometric hold file sub-NN_task-<muscle>.csv.gz (or its folder "
    "with subject= and task=)"
)


def _read_folder(p: Path, subject: str | None, session: str | None, task: str | None) -> Session:
    has_data = (p / "emg").is_dir() or (p / "motion").is_dir()
    if p.name.startswith(("sub-", "ses-")) and has_data:
        return read_bids(p, task=task)
    if p.name.startswith("sub-") and any(p.glob("ses-*")):
        return _pick_session(p.parent, p.name[4:], session, task)
    if find_bids_sessions(p):
        return _pick_session(p, subject, session, task)
    if is_santuz_folder(p):
        return read_santuz_walking(p)
    if (p / "participants.csv").is_file() and any(p.glob("sub-*_task-*.csv*")):
        return read_elderly_hold(p, subject=subject, task=task)
    raise FileFormatError(f"folder holds no readable session; supported: {SUPPORTED}", path=p)


def _pick_session(
    root: Path, subject: str | None, session: str | None, task: str | None
) -> Session:
    found = find_bids_sessions(root)
    if subject is not None:
        found = [f for f in found if f"sub-{subject}" in f.parts]
    if session is not None:
        found = [f for f in found if f.name == f"ses-{session}"]
    if len(found) != 1:
        names = [str(f.relative_to(root)) for f in find_bids_sessions(root)]
        raise FileFormatError(
            f"{len(found)} sessions match; pass subject= and session= (sessions: {names})",
            path=root,
        )
    return read_bids(found[0], task=task)


def read(
    path: str | Path,
    *,
    subject: str | None = None,
    session: str | None = None,
    task: str | None = None,
) -> Session:
    """Read a recording, choosing the reader from what the path is.

    Parameters
    ----------
    path : str or Path
        See :data:`SUPPORTED`: a BIDS root or session folder (or an ``_emg.bdf`` in
        one), a plain ``.edf``/``.bdf``, a tidy ``.csv``/``.csv.gz``, or one of
        the shipped real datasets.
    subject, session : str, optional
        Which session of a BIDS root (or which subject of the older-adults folder).
    task : str, optional
        BIDS task, or the held muscle of the older-adults folder.

    Returns
    -------
    Session
        The recording.

    Raises
    ------
    FileFormatError
        If the path does not exist or is of no supported kind (the message lists
        the supported kinds), or the chosen reader fails.

    Examples
    --------
    >>> read(sample_root() / "santuz_walking")["emg"].n_channels
    13
    >>> read("notes.txt")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: notes.txt: path does not exist
    """
    p = Path(path)
    if not p.exists():
        raise FileFormatError("path does not exist", path=p)
    if p.is_dir():
        return _read_folder(p, subject, session, task)
    name = p.name.lower()
    if name.endswith(("_emg.bdf", "_emg.edf")) and p.parent.name == "emg":
        return read_bids(p.parent.parent, task=_task_of(p.name))
    if name.endswith((".bdf", ".edf")):
        return read_edf(p)
    if is_elderly_file(p):
        return read_elderly_hold(p)
    if p.name == "emg.csv" and is_santuz_folder(p.parent):
        return read_santuz_walking(p.parent)
    if name.endswith((".csv", ".csv.gz")):
        return read_csv(p)
    raise FileFormatError(f"unsupported kind of file; supported: {SUPPORTED}", path=p)


def _task_of(name: str) -> str | None:
    for part in name.split("_"):
        if part.startswith("task-"):
            return part[5:]
    return None

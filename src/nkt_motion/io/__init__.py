"""File input and output: BIDS-EMG, EDF/BDF, tidy CSV and the shipped real datasets.

:func:`read` dispatches on what the path is, as MNE's ``read_raw`` does;
:func:`write_bids` writes a session as a BIDS 1.11 EMG folder.
:func:`read_header` describes an EDF/BDF-backed recording (streams, channels,
events, ids) without reading its samples, and :func:`read_windows` reads some
of its channels over its event windows only (:mod:`nkt_motion.io.windows`).
"""

from __future__ import annotations

from pathlib import Path

from nkt_motion.errors import FileFormatError
from nkt_motion.io._locate import bids_session, edf_kind, task_of
from nkt_motion.io.bids import write_bids
from nkt_motion.io.bids_read import read_bids
from nkt_motion.io.edf import read_edf
from nkt_motion.io.header import RecordingHeader, StoredStream, read_header, recording_file
from nkt_motion.io.real import (
    is_elderly_file,
    is_santuz_folder,
    read_elderly_cohort,
    read_elderly_hold,
    read_santuz_walking,
    sample_root,
)
from nkt_motion.io.tidy_csv import read_csv
from nkt_motion.io.windows import Windows, read_windows
from nkt_motion.model import Session

__all__ = [
    "SUPPORTED",
    "RecordingHeader",
    "StoredStream",
    "Windows",
    "read",
    "read_bids",
    "read_csv",
    "read_edf",
    "read_elderly_cohort",
    "read_elderly_hold",
    "read_header",
    "read_santuz_walking",
    "read_windows",
    "recording_file",
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
    ses = bids_session(p, subject, session)
    if ses is not None:
        return read_bids(ses, task=task)
    if is_santuz_folder(p):
        return read_santuz_walking(p)
    if (p / "participants.csv").is_file() and any(p.glob("sub-*_task-*.csv*")):
        return read_elderly_hold(p, subject=subject, task=task)
    raise FileFormatError(f"folder holds no readable session; supported: {SUPPORTED}", path=p)


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
    kind = edf_kind(p)
    if kind == "bids":
        return read_bids(p.parent.parent, task=task_of(p.name))
    if kind == "edf":
        return read_edf(p)
    if is_elderly_file(p):
        return read_elderly_hold(p)
    if p.name == "emg.csv" and is_santuz_folder(p.parent):
        return read_santuz_walking(p.parent)
    if p.name.lower().endswith((".csv", ".csv.gz")):
        return read_csv(p)
    raise FileFormatError(f"unsupported kind of file; supported: {SUPPORTED}", path=p)

"""Which files :func:`nkt_motion.read` reads for a path: EDF/BDF kinds and BIDS folders.

Shared by :func:`nkt_motion.read` and :func:`nkt_motion.io.read_header`, so
both pick the same recording for the same path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from nkt_motion.errors import FileFormatError
from nkt_motion.io.bids_read import find_bids_sessions

__all__ = ["EdfKind", "bids_data_files", "bids_session", "edf_kind", "task_of"]

#: ``"bids"``: the data file of a BIDS recording (read with its sidecars);
#: ``"edf"``: a plain EDF/BDF file.
EdfKind = Literal["bids", "edf"]


def edf_kind(path: Path) -> EdfKind | None:
    """Return how :func:`nkt_motion.read` reads a file: ``"bids"``, ``"edf"`` or None.

    Parameters
    ----------
    path : Path
        A file name (it need not exist).

    Returns
    -------
    {"bids", "edf"} or None
        ``"bids"`` for an ``_emg.bdf``/``_emg.edf`` in an ``emg`` folder,
        ``"edf"`` for any other ``.bdf``/``.edf``, None for other files.

    Examples
    --------
    >>> edf_kind(Path("sub-01/emg/sub-01_task-a_emg.bdf")), edf_kind(Path("s.EDF"))
    ('bids', 'edf')
    >>> edf_kind(Path("s.csv")) is None
    True
    """
    name = path.name.lower()
    if name.endswith(("_emg.bdf", "_emg.edf")) and path.parent.name == "emg":
        return "bids"
    if name.endswith((".bdf", ".edf")):
        return "edf"
    return None


def task_of(name: str) -> str | None:
    """Return the BIDS ``task-`` entity of a file name, or None.

    Parameters
    ----------
    name : str
        File name.

    Returns
    -------
    str or None
        The task label.

    Examples
    --------
    >>> task_of("sub-01_ses-01_task-hipflexion_emg.bdf"), task_of("rec.bdf")
    ('hipflexion', None)
    """
    for part in name.split("_"):
        if part.startswith("task-"):
            return part[5:]
    return None


def bids_session(p: Path, subject: str | None, session: str | None) -> Path | None:
    """Return the BIDS session folder :func:`nkt_motion.read` reads for a folder.

    Parameters
    ----------
    p : Path
        A folder: a session folder, a ``sub-`` folder or a dataset root.
    subject, session : str, optional
        Which session of a dataset root (or of a ``sub-`` folder).

    Returns
    -------
    Path or None
        The session folder; None when ``p`` is no BIDS folder.

    Raises
    ------
    FileFormatError
        If several sessions match, or none.

    Examples
    --------
    >>> bids_session(Path("no_such_folder"), None, None) is None
    True
    """
    has_data = (p / "emg").is_dir() or (p / "motion").is_dir()
    if p.name.startswith(("sub-", "ses-")) and has_data:
        return p
    if p.name.startswith("sub-") and any(p.glob("ses-*")):
        return _pick_session(p.parent, p.name[4:], session)
    if find_bids_sessions(p):
        return _pick_session(p, subject, session)
    return None


def _pick_session(root: Path, subject: str | None, session: str | None) -> Path:
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
    return found[0]


def bids_data_files(ses: Path, task: str | None) -> list[Path]:
    """Return the EDF/BDF data files of a BIDS session folder (of one task, if given).

    Parameters
    ----------
    ses : Path
        Session folder.
    task : str, optional
        BIDS task.

    Returns
    -------
    list of Path
        Sorted ``emg/`` data files.

    Examples
    --------
    >>> bids_data_files(Path("no_such_session"), None)
    []
    """
    pattern = f"*task-{task}_*" if task else "*"
    return sorted(p for p in (ses / "emg").glob(pattern) if p.suffix.lower() in (".bdf", ".edf"))

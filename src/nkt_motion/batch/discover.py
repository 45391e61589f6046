"""Find the recorded sessions under a folder, and what each one's content is.

What counts as a session
------------------------
- **BIDS-EMG recording**: a ``sub-<s>/[ses-<x>/]emg/*_emg.bdf`` (or ``.edf``).
  It counts once, as that data file (:func:`nkt_motion.read` reads it with its
  sidecars), never again as a plain BDF.
- **Plain EDF/BDF**: any other ``.edf`` / ``.bdf`` file.
- **Tidy CSV**: a ``.csv`` / ``.csv.gz`` file whose header row has a ``time``
  column and conventional channel labels (``EMG GMED L``...). Only the first
  line is read to decide. Other CSV files (the batch's own results, a
  recording's ``<stem>_events.csv`` sidecar, unrelated tables) are skipped,
  each with its reason in the log and in :attr:`Discovery.skipped`.

Hidden files and folders (``.name``) and ``derivatives/`` folders are not
searched. The order is that of the paths relative to the root, so it is the
same on every run.

Content hash
------------
The SHA-256 over the files the reader of that session reads: for a single file
(a plain EDF/BDF, a CSV without sidecars) the hash of its bytes, equal to
:func:`nkt_motion.index.content_hash` of that file; otherwise the SHA-256 over
each file's path (relative to the BIDS dataset root, or to the CSV's folder),
a NUL byte and the SHA-256 of its bytes, in sorted order. For a BIDS recording
these are every file of its session's ``emg/`` and ``motion/`` folders (data,
``_emg.json``, ``_channels.tsv``, ``_events.tsv``, motion files): the reader may
use any of them. The names include the ``sub-``/``ses-`` entities, so a copy of
a session filed under another subject is another session, while the same
dataset copied to a second place is a duplicate.

Duplicates
----------
Sessions with equal content hashes are duplicates: the batch analyses the
first in path order once and reports every path, the others with
``duplicate_of`` naming the one analysed (see :mod:`nkt_motion.batch.rows`).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from nkt_motion.errors import FileFormatError, NktMotionError
from nkt_motion.index import content_hash
from nkt_motion.io.tidy_csv import csv_stem
from nkt_motion.vocab import parse_channel_label

__all__ = [
    "Discovery",
    "SessionKind",
    "SessionSource",
    "csv_header_problem",
    "describe_session",
    "discover_sessions",
    "recording_hash",
]

logger = logging.getLogger(__name__)

SessionKind = Literal["bids", "edf", "csv"]
_EDF_SUFFIXES: Final = (".bdf", ".edf")
_CSV_SUFFIXES: Final = (".csv", ".csv.gz")
#: CSV sidecar files a tidy CSV recording may have (see :mod:`nkt_motion.io.tidy_csv`).
_CSV_SIDECARS: Final = ("_channels.tsv", "_events.csv", ".json")
#: At most this many bytes are read to judge a CSV header.
_HEADER_BYTES: Final = 65536


@dataclass(frozen=True, slots=True)
class SessionSource:
    """One session found on disk.

    Attributes
    ----------
    path : Path
        The file :func:`nkt_motion.read` is given (the ``_emg.bdf`` of a BIDS
        recording, the EDF/BDF or CSV file).
    source : str
        How results name it: the path relative to the searched root, with
        ``/`` separators (the path as given when there is no root).
    kind : {"bids", "edf", "csv"}
        What it is.
    files : tuple of Path
        Every file whose content the session's hash covers.
    content_hash : str
        64 hexadecimal digits (see the module notes).

    Examples
    --------
    >>> s = SessionSource(Path("/d/a.bdf"), "a.bdf", "edf", (Path("/d/a.bdf"),), "ab" * 32)
    >>> s.kind, s.short_hash
    ('edf', 'abababababab')
    """

    path: Path
    source: str
    kind: SessionKind
    files: tuple[Path, ...]
    content_hash: str

    @property
    def short_hash(self) -> str:
        """The first 12 digits of the content hash."""
        return self.content_hash[:12]


@dataclass(frozen=True, slots=True)
class Discovery:
    """What a search found.

    Attributes
    ----------
    sessions : tuple of SessionSource
        Sessions in path order.
    skipped : tuple of (str, str)
        ``(path relative to the root, reason)`` of every candidate file left out.
    unreadable : tuple of (str, str)
        ``(path relative to the root, reason)`` of sessions whose files could
        not be read for their hash; the batch reports them as failed.
    """

    sessions: tuple[SessionSource, ...]
    skipped: tuple[tuple[str, str], ...]
    unreadable: tuple[tuple[str, str], ...]


def recording_hash(files: Iterable[Path], *, base: Path) -> str:
    """Return the content hash of a recording made of some files.

    Parameters
    ----------
    files : iterable of Path
        The recording's files (at least one).
    base : Path
        Folder the file names are taken relative to.

    Returns
    -------
    str
        64 hexadecimal digits: the SHA-256 of the bytes for a single file, else
        the SHA-256 over ``relative path + NUL + SHA-256 of the bytes`` of each
        file in sorted order.

    Raises
    ------
    FileFormatError
        If a file cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "s.csv"
    ...     _ = p.write_bytes(b"abc")
    ...     one = recording_hash([p], base=Path(d))
    ...     _ = (Path(d) / "s.json").write_text("{}")
    ...     two = recording_hash([p, Path(d) / "s.json"], base=Path(d))
    >>> one[:12], one == two
    ('ba7816bf8f01', False)
    """
    ordered = sorted({Path(f) for f in files})
    if len(ordered) == 1:
        return content_hash(ordered[0])
    h = hashlib.sha256()
    for f in ordered:
        rel = f.relative_to(base).as_posix().encode()
        h.update(rel + b"\0" + bytes.fromhex(content_hash(f)))
    return h.hexdigest()


def _bids_parts(path: Path) -> tuple[Path, Path] | None:
    """(session folder, dataset root) when ``path`` is a BIDS EMG data file."""
    name = path.name.lower()
    if not name.endswith(("_emg.bdf", "_emg.edf")) or path.parent.name != "emg":
        return None
    ses = path.parent.parent
    if ses.name.startswith("ses-") and ses.parent.name.startswith("sub-"):
        return ses, ses.parent.parent
    if ses.name.startswith("sub-"):
        return ses, ses.parent
    return None


def _bids_files(path: Path, ses: Path) -> list[Path]:
    found = [path]
    for sub in ("emg", "motion"):
        folder = ses / sub
        if folder.is_dir():
            found += [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return found


def _csv_files(path: Path) -> list[Path]:
    stem = csv_stem(path)
    sidecars = [path.with_name(stem + suffix) for suffix in _CSV_SIDECARS]
    return [path, *(p for p in sidecars if p.is_file())]


def _first_line(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(_HEADER_BYTES)
    return head.decode("utf-8-sig").splitlines()[0] if head else ""


def csv_header_problem(path: Path) -> str:
    r"""Say why a CSV file is not a tidy CSV recording ("" when its header is one).

    Only the first line is read: a ``time`` column and, for every other column,
    a conventional channel label.

    Parameters
    ----------
    path : Path
        A ``.csv`` or ``.csv.gz`` file.

    Returns
    -------
    str
        The reason, or ``""``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "a.csv"
    ...     _ = p.write_text("time,EMG GMED L\n0,1\n")
    ...     ok = csv_header_problem(p)
    ...     _ = p.write_text("row_type,source\nsession,x\n")
    ...     print(repr(ok), csv_header_problem(p))
    '' no 'time' column (columns: row_type, source)
    """
    try:
        line = _first_line(path)
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        return f"header cannot be read ({exc})"
    columns = next(csv.reader(io.StringIO(line)), [])
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    if "time" not in columns:
        return f"no 'time' column (columns: {shown})"
    labels = [c for c in columns if c != "time"]
    if not labels:
        return "no channel column besides 'time'"
    for label in labels:
        try:
            parse_channel_label(label)
        except NktMotionError:
            return f"column {label!r} is not a conventional channel label"
    return ""


def _sidecar_of(path: Path) -> str:
    name = path.name
    for suffix in ("_events.csv", "_events.csv.gz"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            if any(path.with_name(stem + s).is_file() for s in _CSV_SUFFIXES):
                return f"events sidecar of {stem}.csv"
    return ""


def _walk(root: Path, excluded: set[Path]) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d != "derivatives" and (here / d) not in excluded
        )
        for name in sorted(files):
            p = here / name
            if not name.startswith(".") and p not in excluded:
                yield p


def _classify(path: Path) -> tuple[SessionKind | None, str]:
    """Return the kind of session a file is, or None and why it is skipped ("" = silently)."""
    name = path.name.lower()
    if name.endswith(_EDF_SUFFIXES):
        return ("bids" if _bids_parts(path) else "edf"), ""
    if not name.endswith(_CSV_SUFFIXES):
        return None, ""
    why = _sidecar_of(path) or csv_header_problem(path)
    return (None, f"not a tidy CSV recording: {why}") if why else ("csv", "")


def describe_session(path: str | Path, *, root: str | Path | None = None) -> SessionSource:
    """Describe one session file: its kind, files and content hash.

    Parameters
    ----------
    path : str or Path
        An EDF/BDF file (plain or in a BIDS ``emg/`` folder) or a tidy CSV.
    root : str or Path, optional
        Folder ``source`` is made relative to; default: ``source`` is the path
        as given.

    Returns
    -------
    SessionSource
        The session.

    Raises
    ------
    FileFormatError
        If the path does not exist, is of no session kind, or cannot be read.

    Examples
    --------
    >>> describe_session("missing.bdf")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: missing.bdf: file does not exist
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError("file does not exist", path=p)
    kind, why = _classify(p)
    if kind is None:
        raise FileFormatError(
            why or "not a session file (EDF/BDF, BIDS _emg.bdf or tidy CSV)", path=p
        )
    source = p.relative_to(root).as_posix() if root is not None else str(path)
    return _describe(p, kind, source)


def _describe(path: Path, kind: SessionKind, source: str) -> SessionSource:
    if kind == "bids":
        ses, dataset = _bids_parts(path) or (path.parent, path.parent)
        files, base = _bids_files(path, ses), dataset
    elif kind == "csv":
        files, base = _csv_files(path), path.parent
    else:
        files, base = [path], path.parent
    digest = recording_hash(files, base=base)
    return SessionSource(path, source, kind, tuple(sorted(set(files))), digest)


def discover_sessions(root: str | Path, *, exclude: Iterable[str | Path] = ()) -> Discovery:
    r"""Find every session under a folder (see the module notes), with content hashes.

    Parameters
    ----------
    root : str or Path
        Folder to search, recursively.
    exclude : iterable of str or Path
        Files or folders not to search (e.g. the batch's own outputs).

    Returns
    -------
    Discovery
        Sessions in path order, and the files skipped with their reasons.

    Raises
    ------
    FileFormatError
        If ``root`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "notes.csv").write_text("name,age\nx,1\n")
    ...     found = discover_sessions(d)
    >>> found.sessions, found.skipped
    ((), (('notes.csv', "not a tidy CSV recording: no 'time' column (columns: name, age)"),))
    """
    base = Path(root)
    if not base.is_dir():
        raise FileFormatError("batch root must be an existing folder", path=base)
    excluded = {Path(e).absolute() for e in exclude}
    base = base.absolute()
    sessions, skipped, unreadable = [], [], []
    for p in _walk(base, excluded):
        rel = p.relative_to(base).as_posix()
        kind, why = _classify(p)
        if kind is None:
            if why:
                logger.info("skipped %s: %s", rel, why)
                skipped.append((rel, why))
            continue
        try:
            sessions.append(_describe(p, kind, rel))
        except FileFormatError as exc:
            logger.warning("cannot hash %s: %s", rel, exc)
            unreadable.append((rel, str(exc)))
    logger.info(
        "found %d sessions under %s (%d files skipped, %d unreadable)",
        len(sessions), base, len(skipped), len(unreadable),
    )  # fmt: skip
    return Discovery(tuple(sessions), tuple(skipped), tuple(unreadable))

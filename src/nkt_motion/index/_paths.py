"""Where the index lives, what a recording's content hash is, when it was recorded."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from nkt_motion.errors import FileFormatError, ValidationError
from nkt_motion.io.dates import DATE_KEYS

__all__ = ["content_hash", "default_index_path", "recorded_at_of"]

#: Environment variable naming the index file.
ENV_VAR: Final = "NKT_MOTION_INDEX"
_CHUNK: Final = 1 << 20


def default_index_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the index file used when none is given.

    ``$NKT_MOTION_INDEX`` when set, else ``$XDG_DATA_HOME/nkt-motion/index.sqlite``
    when ``XDG_DATA_HOME`` is an absolute path, else
    ``~/.local/share/nkt-motion/index.sqlite``. Nothing is created here.

    Parameters
    ----------
    environ : mapping, optional
        Environment to read; default ``os.environ``.

    Returns
    -------
    Path
        The index file.

    Examples
    --------
    >>> default_index_path({"XDG_DATA_HOME": "/data"}).as_posix()
    '/data/nkt-motion/index.sqlite'
    >>> default_index_path({"NKT_MOTION_INDEX": "/srv/clinic.sqlite"}).as_posix()
    '/srv/clinic.sqlite'
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "nkt-motion" / "index.sqlite"


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.digest()


def _is_skipped(rel: Path) -> bool:
    return any(part == "derivatives" or part.startswith(".") for part in rel.parts)


def content_hash(path: str | Path, *, exclude: Iterable[str | Path] = ()) -> str:
    """SHA-256 of a recording: a file's bytes, or a folder's files and their names.

    For a folder (a BIDS dataset or session) every file below it counts, in
    sorted order, each as its relative path and the SHA-256 of its bytes,
    except hidden files, anything under ``derivatives/`` and the files in
    ``exclude`` (results written next to the data must not change the hash of
    the data).

    Parameters
    ----------
    path : str or Path
        The recording file or folder.
    exclude : iterable of str or Path
        Files inside a folder to leave out (e.g. the analysis outputs).

    Returns
    -------
    str
        64 hexadecimal digits.

    Raises
    ------
    FileFormatError
        If the path does not exist or cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "s.csv"
    ...     _ = p.write_bytes(b"abc")
    ...     before = content_hash(d)
    ...     _ = (Path(d) / "out.json").write_text("{}")
    ...     content_hash(p)[:12], content_hash(d, exclude=[Path(d) / "out.json"]) == before
    ('ba7816bf8f01', True)
    """
    p = Path(path)
    try:
        if p.is_file():
            return _file_digest(p).hex()
        if not p.is_dir():
            raise FileFormatError("does not exist", path=p)
        h = hashlib.sha256()
        skip = {Path(e).resolve() for e in exclude}
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            rel = f.relative_to(p)
            if not (_is_skipped(rel) or f.resolve() in skip):
                h.update(rel.as_posix().encode() + b"\0" + _file_digest(f))
        return h.hexdigest()
    except OSError as exc:
        raise FileFormatError(f"cannot be read for its content hash: {exc}", path=p) from exc


def normalise_time(value: str | datetime, *, parameter: str) -> str:
    """ISO 8601 text of a time: aware times in UTC, naive ones as given, to the second.

    Parameters
    ----------
    value : str or datetime
        ISO 8601 date, or date and time.
    parameter : str
        Name for the error message.

    Returns
    -------
    str
        ``YYYY-MM-DDTHH:MM:SS`` with ``+00:00`` when the time had an offset.

    Raises
    ------
    ValidationError
        If the text is not an ISO 8601 date or date-time.

    Examples
    --------
    >>> normalise_time("2024-05-01T12:30:00+02:00", parameter="recorded_at")
    '2024-05-01T10:30:00+00:00'
    >>> normalise_time("2024-05-01", parameter="recorded_at")
    '2024-05-01T00:00:00'
    """
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(
                f"{parameter} must be an ISO 8601 date or date-time, got {value!r}",
                parameter=parameter,
            ) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")


def now() -> str:
    """Return the current time in UTC as ISO 8601 text, to the second.

    Returns
    -------
    str
        For example ``2024-05-01T10:30:00+00:00``.

    Examples
    --------
    >>> now().endswith("+00:00")
    True
    """
    return datetime.now(UTC).isoformat(timespec="seconds")


def recorded_at_of(meta: Mapping[str, Any]) -> str | None:
    """Return the recording date and time a session's metadata states, if any.

    Parameters
    ----------
    meta : mapping
        :attr:`nkt_motion.Session.meta`; the first of :data:`nkt_motion.io.dates.DATE_KEYS` holding
        an ISO 8601 date or date-time is used.

    Returns
    -------
    str or None
        Normalised as :func:`normalise_time` does; None when no key holds a date.

    Examples
    --------
    >>> recorded_at_of({"acq_time": "2024-05-01T09:15:00"})
    '2024-05-01T09:15:00'
    >>> recorded_at_of({"task": "hipflexion"}) is None
    True
    """
    for key in DATE_KEYS:
        value = meta.get(key)
        if isinstance(value, str | datetime):
            try:
                return normalise_time(value, parameter=key)
            except ValidationError:
                continue
    return None

"""The recording date and time of a session, in its metadata and in a BIDS folder.

A session states when it was recorded in ``meta["recorded_at"]`` (or
``meta["acq_time"]``): ISO 8601 text, in UTC with an offset (``+00:00``) or
naive (local time, as given). These are the keys the client/session index
reads (:func:`nkt_motion.index.recorded_at_of`). The time is that of session
time 0.

On disk, :func:`nkt_motion.io.write_bids` keeps the meta in the sidecar's
``NktMotion`` block and also writes the standard places: the BDF header's start
date and time, and the ``acq_time`` column of the session's ``_scans.tsv``
(BIDS: when the first data point of each file was acquired, identical for all
files of one recording; ``YYYY-MM-DDThh:mm:ss[.000000][Z]``, ``Z`` for UTC). The
first data point is the recording time plus the files' time origin on the
session clock. :func:`nkt_motion.io.read_bids` gives a folder without the
``NktMotion`` date (written by another tool) ``meta["acq_time"]`` from its
``_scans.tsv``. A session without a date gets neither file entry: its BDF
header keeps the time of writing, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pandas as pd

from nkt_motion.io.tidy_csv import read_table

__all__ = ["DATE_KEYS", "bids_datetime", "read_scans_time", "recording_start", "write_scans"]

logger = logging.getLogger(__name__)

#: Session metadata keys holding the recording date and time, in the order read.
DATE_KEYS: Final = ("recorded_at", "acq_time")


def recording_start(meta: Mapping[str, Any], *, offset_s: float = 0.0) -> datetime | None:
    """Return when a session was recorded, from its metadata.

    Parameters
    ----------
    meta : mapping
        Session metadata; the first of :data:`DATE_KEYS` that holds an ISO 8601
        date or date-time is used (text that is not one is logged and skipped).
    offset_s : float
        Seconds added (e.g. the session time of a file's first sample).

    Returns
    -------
    datetime or None
        In UTC when the text had an offset (aware), else naive; None without a date.

    Examples
    --------
    >>> recording_start({"recorded_at": "2025-03-04T10:15:00+01:00"}, offset_s=1.5)
    datetime.datetime(2025, 3, 4, 9, 15, 1, 500000, tzinfo=datetime.timezone.utc)
    >>> recording_start({"task": "hipflexion"}) is None
    True
    """
    for key in DATE_KEYS:
        value = meta.get(key)
        if value is None:
            continue
        try:
            when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        except ValueError:
            logger.warning("meta[%r] = %r is not an ISO 8601 date-time; ignored", key, value)
            continue
        when = when.astimezone(UTC) if when.tzinfo is not None else when
        return when + timedelta(seconds=offset_s)
    return None


def bids_datetime(when: datetime) -> str:
    """Format a date-time as BIDS asks: ``YYYY-MM-DDThh:mm:ss.ffffff``, ``Z`` when in UTC.

    Parameters
    ----------
    when : datetime
        Aware (converted to UTC) or naive (local time, written as it is).

    Returns
    -------
    str
        Microseconds, so that every file of a dataset has the same precision.

    Examples
    --------
    >>> from datetime import timezone
    >>> bids_datetime(datetime(2025, 3, 4, 9, 15, 1, tzinfo=timezone.utc))
    '2025-03-04T09:15:01.000000Z'
    >>> bids_datetime(datetime(2025, 3, 4, 9, 15, 1))
    '2025-03-04T09:15:01.000000'
    """
    if when.tzinfo is None:
        return when.isoformat(timespec="microseconds")
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def write_scans(ses_dir: Path, when: datetime) -> Path:
    """Write the session's ``_scans.tsv``: each data file and its ``acq_time``.

    Parameters
    ----------
    ses_dir : Path
        The ``sub-<s>/ses-<x>`` (or ``sub-<s>``) folder, with its data files
        (``*/*_emg.bdf``, ``*/*_emg.edf``, ``*/*_motion.tsv``) already written.
    when : datetime
        Acquisition time of the first data point, the same for every file.

    Returns
    -------
    Path
        ``sub-<s>_ses-<x>_scans.tsv`` (``sub-<s>_scans.tsv``) in ``ses_dir``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ses = Path(d) / "sub-01" / "ses-02"
    ...     (ses / "emg").mkdir(parents=True)
    ...     _ = (ses / "emg" / "sub-01_ses-02_task-x_emg.bdf").write_bytes(b"")
    ...     write_scans(ses, datetime(2025, 3, 4, 9, 15, 1)).read_text().split()
    ['filename', 'acq_time', 'emg/sub-01_ses-02_task-x_emg.bdf', '2025-03-04T09:15:01.000000']
    """
    files = sorted(
        p.relative_to(ses_dir).as_posix()
        for p in ses_dir.glob("*/*")
        if p.name.lower().endswith(("_emg.bdf", "_emg.edf", "_motion.tsv"))
    )
    has_ses = ses_dir.name.startswith("ses-")
    prefix = f"{ses_dir.parent.name}_{ses_dir.name}" if has_ses else ses_dir.name
    path = ses_dir / f"{prefix}_scans.tsv"
    table = pd.DataFrame({"filename": files, "acq_time": [bids_datetime(when)] * len(files)})
    table.to_csv(path, sep="\t", index=False)
    return path


def read_scans_time(ses_dir: Path, data_file: Path) -> str | None:
    """Return the ``acq_time`` a session's ``_scans.tsv`` gives a data file.

    Parameters
    ----------
    ses_dir : Path
        The session folder.
    data_file : Path
        A data file inside it.

    Returns
    -------
    str or None
        The text as written (``n/a``, a missing file, row or column give None).

    Raises
    ------
    FileFormatError
        If the ``_scans.tsv`` cannot be parsed.

    Examples
    --------
    >>> read_scans_time(Path("sub-01"), Path("sub-01/emg/sub-01_task-x_emg.bdf")) is None
    True
    """
    files = sorted(ses_dir.glob("*_scans.tsv"))
    if not files:
        return None
    table = read_table(files[0], sep="\t", dtype=str, keep_default_na=False)
    if not {"filename", "acq_time"} <= set(table.columns):
        return None
    name = data_file.relative_to(ses_dir).as_posix()
    rows = table.loc[table["filename"] == name, "acq_time"]
    value = str(rows.iloc[0]).strip() if len(rows) else ""
    return value if value not in ("", "n/a") else None

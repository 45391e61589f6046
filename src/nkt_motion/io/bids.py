"""Write a Session as a BIDS 1.11 EMG session folder (with BIDS motion for IMUs).

Layout written under ``root``::

    dataset_description.json
    sub-<s>/ses-<x>/emg/sub-<s>_ses-<x>_task-<task>_emg.bdf      (BDF+)
    sub-<s>/ses-<x>/emg/sub-<s>_ses-<x>_task-<task>_emg.json
    sub-<s>/ses-<x>/emg/sub-<s>_ses-<x>_task-<task>_channels.tsv
    sub-<s>/ses-<x>/emg/sub-<s>_ses-<x>_task-<task>_events.tsv
    sub-<s>/ses-<x>/motion/sub-<s>_ses-<x>_task-<task>_tracksys-<imu>_motion.tsv
    sub-<s>/ses-<x>/motion/sub-<s>_ses-<x>_task-<task>_tracksys-<imu>_motion.json
    sub-<s>/ses-<x>/motion/sub-<s>_ses-<x>_task-<task>_tracksys-<imu>_channels.tsv

Streams whose channels are all IMU kinds (acc, gyr, mag, quat) go to
``motion/`` (one tracking system per stream, no header, ``n/a`` for missing
samples); every other stream (EMG, force, angle) goes into the BDF, EMG channels
with BIDS type ``EMG`` and the others ``MISC``. Events and gap rows (see
:mod:`nkt_motion.io._common`) are written to ``_events.tsv`` and as BDF+
annotations, with onsets relative to the first sample of the BDF.

A session whose meta states when it was recorded (``recorded_at``, see
:mod:`nkt_motion.io.dates`) also gets ``sub-<s>/ses-<x>/sub-<s>_ses-<x>_scans.tsv``
(``acq_time`` of each data file) and that start in the BDF header.

What BIDS has no field for sits in the key ``"NktMotion"`` of the sidecar JSON:
subject, session, the time origin of the files on the session clock, ``meta``
(JSON values only), and per stream its rate, t0, length, front padding in the
BDF, processing history and full channel metadata.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from nkt_motion.errors import FileFormatError, ValidationError
from nkt_motion.io._common import IMU_KINDS, apply_gaps, format_gap_label, nan_gaps
from nkt_motion.io.bdf_write import write_bdf
from nkt_motion.io.dates import recording_start, write_scans
from nkt_motion.model import Channel, Session, Stream

__all__ = ["BIDS_VERSION", "write_bids"]

logger = logging.getLogger(__name__)

BIDS_VERSION: Final = "1.11.0"
#: BIDS motion channel type and component per IMU kind / axis.
MOTION_TYPES: Final[dict[str, str]] = {
    "acc": "ACCEL",
    "gyr": "GYRO",
    "mag": "MAGN",
    "quat": "ORNT",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(obj: Mapping[str, Any], path: Path) -> None:
    """Write a JSON object, converting NumPy values, with a clear error otherwise.

    Parameters
    ----------
    obj : mapping
        The object.
    path : Path
        Output file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     dump_json({"fs": np.float64(2.0)}, Path(d) / "a.json")
    ...     json.loads((Path(d) / "a.json").read_text())
    {'fs': 2.0}
    """
    try:
        text = json.dumps(dict(obj), indent=2, default=_jsonable, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"metadata cannot be written as JSON ({exc})", path=path) from None
    path.write_text(text + "\n", encoding="utf-8")


def channel_record(ch: Channel) -> dict[str, str | None]:
    """Return a channel's metadata as a JSON-ready dict.

    Parameters
    ----------
    ch : Channel
        The channel.

    Returns
    -------
    dict
        Keys name, kind, unit, muscle, side, placement, site.

    Examples
    --------
    >>> channel_record(Channel("EMG TA R", "emg", "uV"))["kind"]
    'emg'
    """
    return {
        "name": ch.name,
        "kind": ch.kind,
        "unit": ch.unit,
        "muscle": ch.muscle,
        "side": ch.side,
        "placement": ch.placement,
        "site": ch.site,
    }


def _stream_record(s: Stream, pad: int = 0) -> dict[str, Any]:
    return {
        "fs": s.fs,
        "t0": s.t0,
        "n_samples": s.n_samples,
        "front_pad": pad,
        "history": list(s.history),
        "channels": [channel_record(c) for c in s.channels],
    }


def _all_gaps(session: Session) -> pd.DataFrame:
    """Session gaps plus one row per NaN run that no gap row covers."""
    zeroed = {n: s.replace(data=np.nan_to_num(s.data)) for n, s in session.streams.items()}
    covered = apply_gaps(zeroed, session.gaps, path="<session>")
    extra = []
    for name, s in session.streams.items():
        loose = np.isnan(s.data) & ~np.isnan(covered[name].data)
        if loose.any():
            extra.append(nan_gaps(s.replace(data=np.where(loose, np.nan, 0.0))))
    if extra:
        logger.info("adding %d gap rows for NaN samples without one", sum(map(len, extra)))
    return pd.concat([session.gaps, *extra], ignore_index=True)


def _annotations(session: Session) -> pd.DataFrame:
    ev = session.events
    gaps = _all_gaps(session)
    texts = [
        format_gap_label(s, c, r)
        for s, c, r in zip(gaps["stream"], gaps["channel"], gaps["reason"], strict=True)
    ]
    out = pd.DataFrame(
        {
            "onset": np.concatenate([ev["onset"].to_numpy(float), gaps["onset"].to_numpy(float)]),
            "duration": np.concatenate(
                [ev["duration"].to_numpy(float), gaps["duration"].to_numpy(float)]
            ),
            "text": [*ev["label"].astype(str), *texts],
        }
    )
    return out.sort_values("onset", kind="stable").reset_index(drop=True)


def _is_motion(s: Stream) -> bool:
    return s.n_channels > 0 and all(k in IMU_KINDS for k in s.kinds)


def _prepare(session: Session, root: Path, overwrite: bool) -> tuple[Path, str]:
    task = str(session.meta.get("task", "nkt"))
    if not re.fullmatch(r"[A-Za-z0-9]+", task):
        raise ValidationError(
            f"meta['task'] must be an alphanumeric BIDS label, got {task!r}", parameter="task"
        )
    ses_dir = root / f"sub-{session.subject}" / f"ses-{session.session_id}"
    if ses_dir.exists() and any(ses_dir.iterdir()):
        if not overwrite:
            raise FileFormatError(
                "session folder exists and is not empty; pass overwrite=True to replace it",
                path=ses_dir,
            )
        logger.info("replacing %s", ses_dir)
        shutil.rmtree(ses_dir)
    root.mkdir(parents=True, exist_ok=True)
    from nkt_motion import __version__

    desc = root / "dataset_description.json"
    if not desc.exists():
        dump_json(
            {
                "Name": str(session.meta.get("dataset_name", "nkt-motion recordings")),
                "BIDSVersion": BIDS_VERSION,
                "DatasetType": "raw",
                "GeneratedBy": [{"Name": "nkt-motion", "Version": __version__}],
            },
            desc,
        )
    return ses_dir, task


def write_bids(session: Session, root: str | Path, *, overwrite: bool = False) -> Path:
    """Write a session as a BIDS-EMG session folder (see the module notes).

    Parameters
    ----------
    session : Session
        The recording; ``meta["task"]`` (alphanumeric, default ``"nkt"``) names
        the task. Optional meta keys used for BIDS fields:
        ``power_line_frequency`` (Hz), ``emg_reference``, ``emg_placement_scheme``,
        ``software_filters``, ``manufacturer``, ``dataset_name``, ``recorded_at``
        (ISO 8601 time of session time 0: ``_scans.tsv`` and the BDF start).
    root : str or Path
        Dataset root; created when missing. ``dataset_description.json`` is
        written when absent.
    overwrite : bool
        Replace an existing non-empty ``sub-<s>/ses-<x>`` folder. Without it,
        writing there raises.

    Returns
    -------
    Path
        The session folder ``root/sub-<s>/ses-<x>``.

    Raises
    ------
    FileFormatError
        If the session folder exists (without ``overwrite``), a value does not fit
        a BDF header, or meta is not JSON serialisable.
    ValidationError
        If the task name is not alphanumeric.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion import Channel, Session, Stream, make_events
    >>> emg = Stream("emg", np.ones((1, 200)), 100.0, [Channel("EMG TA R", "emg", "uV")])
    >>> s = Session([emg], events=make_events([0.5], [1.0], ["rest"]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(p.name[23:] for p in (write_bids(s, d) / "emg").iterdir())
    ['channels.tsv', 'emg.bdf', 'emg.json', 'events.tsv']
    """
    from nkt_motion.io.bids_files import write_emg_folder, write_motion_folder

    ses_dir, task = _prepare(session, Path(root), overwrite)
    base = f"sub-{session.subject}_ses-{session.session_id}_task-{task}"
    streams = list(session.streams.values())
    bdf = [s for s in streams if not _is_motion(s)]
    motion = [s for s in streams if _is_motion(s)]
    origin = min((s.t0 for s in (bdf or streams)), default=0.0)
    block: dict[str, Any] = {
        "format": 1,
        "subject": session.subject,
        "session": session.session_id,
        "time_origin": origin,
        "meta": dict(session.meta),
    }
    ann = _annotations(session)
    start = recording_start(session.meta, offset_s=origin)
    if bdf:
        (ses_dir / "emg").mkdir(parents=True)
        pads = write_bdf(
            ses_dir / "emg" / f"{base}_emg.bdf",
            bdf,
            ann,
            origin=origin,
            subject=session.subject,
            start=start,
        )
        streams_block = {s.name: _stream_record(s, pads[s.name]) for s in bdf}
        write_emg_folder(session, ses_dir / "emg", base, {**block, "streams": streams_block})
    for i, s in enumerate(motion):
        sblock = {**block, "streams": {s.name: _stream_record(s)}}
        write_motion_folder(s, ses_dir / "motion", base, sblock, task=task)
        if i == 0 and not bdf:
            write_events(ann, ses_dir / "motion" / f"{base}_events.tsv", origin=origin)
    if bdf:
        write_events(ann, ses_dir / "emg" / f"{base}_events.tsv", origin=origin)
    if start is not None:
        write_scans(ses_dir, start)
    return ses_dir


def write_events(ann: pd.DataFrame, path: Path, *, origin: float) -> None:
    """Write an ``_events.tsv`` (onset, duration, trial_type).

    Parameters
    ----------
    ann : pandas.DataFrame
        Columns onset, duration (s, session clock) and text.
    path : Path
        Output file.
    origin : float
        Session time of the first sample of the data file, in seconds.

    Examples
    --------
    >>> import tempfile
    >>> a = pd.DataFrame({"onset": [1.5], "duration": [1.0], "text": ["rest"]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_events(a, Path(d) / "e.tsv", origin=0.5)
    ...     (Path(d) / "e.tsv").read_text().splitlines()[1].split()
    ['1.0', '1.0', 'rest']
    """
    table = pd.DataFrame(
        {
            "onset": np.round(ann["onset"].to_numpy(float) - origin, 10),
            "duration": ann["duration"].to_numpy(float),
            "trial_type": ann["text"].astype(str),
        }
    )
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")

"""The sidecar files of a BIDS session folder: ``_emg.json``, ``_motion.*``, ``_channels.tsv``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from nkt_motion.io.bids import MOTION_TYPES, dump_json
from nkt_motion.model import Session, Stream

__all__ = ["tracksys_label", "write_emg_folder", "write_motion_folder"]

_NA = "n/a"


def _software_filters(session: Session) -> Any:
    given = session.meta.get("software_filters")
    if given is not None:
        return given
    steps = {s.name: list(s.history) for s in session.streams.values() if s.history}
    return {"nkt-motion": {"Description": steps}} if steps else _NA


def write_emg_folder(session: Session, folder: Path, base: str, block: dict[str, Any]) -> None:
    """Write ``_emg.json`` and ``_channels.tsv`` for the streams stored in the BDF.

    Parameters
    ----------
    session : Session
        The session (meta gives the optional BIDS fields).
    folder : Path
        The ``emg`` folder (exists).
    base : str
        ``sub-<s>_ses-<x>_task-<task>``.
    block : dict
        The ``NktMotion`` block; its ``streams`` key lists the BDF streams.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from nkt_motion import Channel
    >>> emg = Stream("emg", np.ones((1, 10)), 10.0, [Channel("EMG TA R", "emg", "uV")])
    >>> blk = {"streams": {"emg": {"fs": 10.0, "channels": [{"name": "EMG TA R"}]}}}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_emg_folder(Session([emg]), Path(d), "sub-01_ses-01_task-nkt", blk)
    ...     sorted(p.name for p in Path(d).iterdir())
    ['sub-01_ses-01_task-nkt_channels.tsv', 'sub-01_ses-01_task-nkt_emg.json']
    """
    streams = [session.streams[n] for n in block["streams"]]
    chans = [(s, c) for s in streams for c in s.channels]
    emg = [s for s, c in chans if c.kind == "emg"]
    main = emg[0] if emg else streams[0]
    placed = any(c.placement for _, c in chans)
    meta = session.meta
    sidecar: dict[str, Any] = {
        "TaskName": base.rsplit("task-", 1)[1],
        "SamplingFrequency": main.fs,
        "PowerLineFrequency": meta.get("power_line_frequency", _NA),
        "EMGPlacementScheme": meta.get(
            "emg_placement_scheme", "ChannelSpecific" if placed else "Other"
        ),
        "EMGReference": meta.get("emg_reference", _NA),
        "RecordingType": "continuous",
        "SoftwareFilters": _software_filters(session),
        "EMGChannelCount": len(emg),
        "MiscChannelCount": len(chans) - len(emg),
        "RecordingDuration": max(s.duration for s in streams),
    }
    for key, field in (
        ("manufacturer", "Manufacturer"),
        ("device_model", "ManufacturersModelName"),
    ):
        if key in meta:
            sidecar[field] = meta[key]
    sidecar["NktMotion"] = block
    dump_json(sidecar, folder / f"{base}_emg.json")
    table = pd.DataFrame(
        {
            "name": [c.name for _, c in chans],
            "type": ["EMG" if c.kind == "emg" else "MISC" for _, c in chans],
            "units": [c.unit for _, c in chans],
            "target_muscle": [c.muscle or _NA for _, c in chans],
            "placement": [c.placement or _NA for _, c in chans],
            "side": [c.side or _NA for _, c in chans],
            "sampling_frequency": [s.fs for s, _ in chans],
        }
    )
    table.to_csv(folder / f"{base}_channels.tsv", sep="\t", index=False)


def tracksys_label(stream_name: str) -> str:
    """Return the BIDS ``tracksys`` label of an IMU stream (its name, alphanumerics only).

    Parameters
    ----------
    stream_name : str
        Stream name, e.g. ``"imu_100"``.

    Returns
    -------
    str
        For example ``"imu100"``.

    Examples
    --------
    >>> tracksys_label("imu_100")
    'imu100'
    """
    return re.sub(r"[^A-Za-z0-9]", "", stream_name) or "imu"


def write_motion_folder(
    stream: Stream, folder: Path, base: str, block: dict[str, Any], *, task: str
) -> None:
    """Write one IMU stream as BIDS motion: ``_motion.tsv``, ``_motion.json``, ``_channels.tsv``.

    Parameters
    ----------
    stream : Stream
        IMU stream, data shape (n_channels, n_samples); NaN is written as ``n/a``.
    folder : Path
        The ``motion`` folder (created when missing).
    base : str
        ``sub-<s>_ses-<x>_task-<task>``.
    block : dict
        The ``NktMotion`` block for this stream.
    task : str
        Task name.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from nkt_motion import Channel
    >>> imu = Stream("imu", np.zeros((1, 3)), 50.0, [Channel("ACC X pelvis", "acc", "m/s^2")])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_motion_folder(imu, Path(d), "sub-01_ses-01_task-nkt", {}, task="nkt")
    ...     len(list(Path(d).iterdir()))
    3
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{base}_tracksys-{tracksys_label(stream.name)}"
    frame = pd.DataFrame(stream.data.T)
    frame.to_csv(folder / f"{stem}_motion.tsv", sep="\t", header=False, index=False, na_rep=_NA)
    counts: dict[str, int] = {}
    for c in stream.channels:
        key = f"{MOTION_TYPES[c.kind]}ChannelCount"
        counts[key] = counts.get(key, 0) + 1
    sidecar = {
        "TaskName": task,
        "SamplingFrequency": stream.fs,
        "TrackingSystemName": stream.name,
        "MotionChannelCount": stream.n_channels,
        **counts,
        "RecordingDuration": stream.duration,
        "NktMotion": block,
    }
    dump_json(sidecar, folder / f"{stem}_motion.json")
    axes = [c.name.split()[1].lower() for c in stream.channels]
    table = pd.DataFrame(
        {
            "name": stream.ch_names,
            "component": [
                a if c.kind != "quat" else f"quat_{a}"
                for a, c in zip(axes, stream.channels, strict=True)
            ],
            "type": [MOTION_TYPES[c.kind] for c in stream.channels],
            "tracked_point": [c.site or _NA for c in stream.channels],
            "units": [c.unit if c.kind != "quat" else _NA for c in stream.channels],
        }
    )
    table.to_csv(folder / f"{stem}_channels.tsv", sep="\t", index=False)

"""Read a BIDS-EMG session folder (BDF or EDF data, optional BIDS motion IMU files).

Files written by :func:`~nkt_motion.io.write_bids` carry an ``NktMotion`` block
in their sidecar JSON, from which stream names, start times, lengths, processing
history and full channel metadata are restored exactly. Folders from other tools
are read from ``_channels.tsv`` (``units``, ``target_muscle``, ``placement``) and
the conventional signal labels, with every stream starting at t0 = 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nkt_motion.errors import FileFormatError, NktMotionError
from nkt_motion.io._common import apply_gaps, group_streams
from nkt_motion.io.dates import read_scans_time, recording_start
from nkt_motion.io.edf import channels_from_labels, read_edf_content, split_annotations
from nkt_motion.io.tidy_csv import read_table
from nkt_motion.model import Channel, Session, Stream

__all__ = ["find_bids_sessions", "read_bids"]


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileFormatError("sidecar JSON is missing", path=path)
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"invalid JSON ({exc})", path=path) from None
    if not isinstance(out, dict):
        raise FileFormatError("sidecar must hold a JSON object", path=path)
    return out


def find_bids_sessions(root: str | Path) -> list[Path]:
    """List the session folders (``sub-*/ses-*`` or ``sub-*``) holding EMG or motion data.

    Parameters
    ----------
    root : str or Path
        Dataset root.

    Returns
    -------
    list of Path
        Sorted session folders.

    Examples
    --------
    >>> find_bids_sessions("no_such_root")
    []
    """
    r = Path(root)
    found = {p.parent.parent for p in r.glob("sub-*/ses-*/*/*_emg.[bBeE][dD][fF]")}
    found |= {p.parent.parent for p in r.glob("sub-*/*/*_emg.[bBeE][dD][fF]")}
    found |= {p.parent.parent for p in r.glob("sub-*/ses-*/motion/*_motion.tsv")}
    return sorted(p for p in found if p.name.startswith(("sub-", "ses-")))


def _check_rate(sidecar: dict[str, Any], rates: list[float], path: Path) -> None:
    fs = sidecar.get("SamplingFrequency")
    if fs is None:
        raise FileFormatError("required field SamplingFrequency is missing", path=path)
    if not any(np.isclose(float(fs), r) for r in rates):
        raise FileFormatError(
            f"SamplingFrequency {fs} Hz matches no signal rate of the data file ({rates})",
            path=path,
        )


def _channel(rec: dict[str, Any], path: Path) -> Channel:
    try:
        return Channel(**rec)
    except (NktMotionError, TypeError) as exc:
        raise FileFormatError(str(exc), path=path, channel=str(rec.get("name"))) from None


def _bdf_streams(data_file: Path, sidecar_path: Path) -> tuple[dict[str, Stream], pd.DataFrame]:
    content = read_edf_content(data_file)
    sidecar = _load_json(sidecar_path)
    _check_rate(sidecar, content.rates, sidecar_path)
    block = sidecar.get("NktMotion", {}).get("streams")
    if block is None:
        return _foreign_streams(data_file, content), content.annotations
    signals = dict(zip(content.labels, content.signals, strict=True))
    streams = {}
    for name, rec in block.items():
        chans = [_channel(c, sidecar_path) for c in rec["channels"]]
        missing = [c.name for c in chans if c.name not in signals]
        if missing:
            raise FileFormatError(
                "signal listed in the sidecar is absent", path=data_file, channel=missing[0]
            )
        lo, n = int(rec["front_pad"]), int(rec["n_samples"])
        data = np.vstack([signals[c.name][lo : lo + n] for c in chans])
        streams[name] = Stream(
            name, data, rec["fs"], tuple(chans), t0=rec["t0"], history=tuple(rec["history"])
        )
    return streams, content.annotations


def _foreign_streams(data_file: Path, content: Any) -> dict[str, Stream]:
    tsv = Path(str(data_file).rsplit("_emg.", 1)[0] + "_channels.tsv")
    table = read_table(tsv, sep="\t", dtype=str).set_index("name") if tsv.is_file() else None
    units = list(content.units)
    if table is not None and "units" in table.columns:
        units = [
            str(table["units"].get(lb, u)) for lb, u in zip(content.labels, units, strict=True)
        ]
    chans = channels_from_labels(content.labels, units, path=data_file)
    return group_streams(chans, content.signals, content.rates)


def _motion_streams(folder: Path) -> dict[str, Stream]:
    out = {}
    for tsv in sorted(folder.glob("*_motion.tsv")):
        sidecar_path = tsv.with_name(tsv.name.replace("_motion.tsv", "_motion.json"))
        sidecar = _load_json(sidecar_path)
        frame = read_table(tsv, sep="\t", header=None, na_values=["n/a"])
        block = sidecar.get("NktMotion", {}).get("streams")
        if block is None:
            raise FileFormatError("motion sidecar lacks the NktMotion block", path=sidecar_path)
        ((name, rec),) = block.items()
        chans = [_channel(c, sidecar_path) for c in rec["channels"]]
        if frame.shape != (rec["n_samples"], len(chans)):
            raise FileFormatError(
                f"expected {rec['n_samples']} rows x {len(chans)} columns, got {frame.shape}",
                path=tsv,
            )
        _check_rate(sidecar, [rec["fs"]], sidecar_path)
        out[name] = Stream(
            name,
            frame.to_numpy(float).T,
            rec["fs"],
            tuple(chans),
            t0=rec["t0"],
            history=tuple(rec["history"]),
        )
    return out


def _events(folder: Path, origin: float) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    files = sorted(folder.glob("*_events.tsv"))
    if not files:
        return None
    table = read_table(files[0], sep="\t", na_values=["n/a"], keep_default_na=False)
    if not {"onset", "duration"} <= set(table.columns):
        raise FileFormatError("needs columns onset and duration", path=files[0])
    label = "trial_type" if "trial_type" in table.columns else "value"
    ann = pd.DataFrame(
        {
            "onset": table["onset"].to_numpy(float) + origin,
            "duration": table["duration"].fillna(0.0).to_numpy(float),
            "text": table[label].astype(str).to_numpy(),
        }
    )
    events, gaps, _ = split_annotations(ann, path=files[0])
    return events, gaps


def read_bids(path: str | Path, *, task: str | None = None) -> Session:
    """Read one BIDS session folder.

    Parameters
    ----------
    path : str or Path
        A ``sub-<s>/ses-<x>`` folder, or a ``sub-<s>`` folder without sessions.
    task : str, optional
        Task to read when the folder holds several.

    Returns
    -------
    Session
        Streams from the BDF/EDF (and ``motion/``), events and gaps from
        ``_events.tsv`` (or the BDF+ annotations when there is none), samples in
        gaps set to NaN, subject/session/meta from the sidecar; a meta without a
        recording date gets ``acq_time`` from the ``_scans.tsv`` when it has one.

    Raises
    ------
    FileFormatError
        If the folder has no data, several tasks without ``task``, a missing or
        invalid sidecar, or a sidecar rate that matches no signal.

    Examples
    --------
    >>> read_bids("sub-99/ses-01")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: sub-99/ses-01: no _emg.bdf/_emg.edf or _motion.tsv found
    """
    ses = Path(path)
    pattern = f"*task-{task}_*" if task else "*"
    data = sorted(p for p in (ses / "emg").glob(pattern) if p.suffix.lower() in (".bdf", ".edf"))
    motion_dir = ses / "motion"
    if not data and not list(motion_dir.glob(f"{pattern}_motion.tsv")):
        raise FileFormatError("no _emg.bdf/_emg.edf or _motion.tsv found", path=ses)
    if len(data) > 1:
        raise FileFormatError(
            f"several recordings ({[p.name for p in data]}); pass task=...", path=ses
        )
    streams: dict[str, Stream] = {}
    ann = None
    sidecar: dict[str, Any] = {}
    if data:
        sidecar_path = data[0].with_name(data[0].name.rsplit(".", 1)[0] + ".json")
        streams, ann = _bdf_streams(data[0], sidecar_path)
        sidecar = _load_json(sidecar_path)
    streams.update(_motion_streams(motion_dir))
    if not sidecar:
        sidecar = _load_json(next(iter(sorted(motion_dir.glob("*_motion.json")))))
    block = sidecar.get("NktMotion", {})
    origin = float(block.get("time_origin", 0.0))
    tables = _events(ses / "emg", origin) or _events(motion_dir, origin)
    if tables is None and ann is not None:
        tables = split_annotations(ann.assign(onset=ann["onset"] + origin), path=data[0])[:2]
    events, gaps = tables if tables is not None else (None, None)
    if gaps is not None:
        streams = apply_gaps(streams, gaps, path=ses)
    first = data[0] if data else min(motion_dir.glob(f"{pattern}_motion.tsv"))
    meta = _meta(block, sidecar, ses, first)
    names = _ids(ses)
    return Session(
        streams,
        events=events,
        gaps=gaps,
        subject=str(block.get("subject", names[0])),
        session_id=str(block.get("session", names[1])),
        meta=meta,
    )


def _meta(
    block: dict[str, Any], sidecar: dict[str, Any], ses: Path, first: Path
) -> dict[str, Any]:
    """Return the session meta: nkt-motion's, else task and folder; dated by ``_scans.tsv``.

    A folder written by another tool (no ``NktMotion`` date) gets ``acq_time``
    from the ``_scans.tsv`` row of ``first``, its first data file.
    """
    meta = block.get("meta", {"task": sidecar.get("TaskName", "nkt"), "source": str(ses)})
    if recording_start(meta) is None and (when := read_scans_time(ses, first)) is not None:
        meta = {**meta, "acq_time": when}
    return dict(meta)


def _ids(ses: Path) -> tuple[str, str]:
    if ses.name.startswith("ses-"):
        return ses.parent.name.removeprefix("sub-"), ses.name.removeprefix("ses-")
    return ses.name.removeprefix("sub-"), "01"

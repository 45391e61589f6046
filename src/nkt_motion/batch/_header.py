"""What an EDF/BDF-backed recording holds, read from its headers and sidecars only.

A :class:`RecordingHeader` lists each stream the full reader would build (name,
rate, start, length, channels) and where its samples are stored (signals of the
EDF/BDF file, or columns of a BIDS motion TSV), together with the events, gaps,
ids and metadata, without reading any sample. It follows the readers of
:mod:`nkt_motion.io` (BIDS with and without the ``NktMotion`` sidecar block,
plain EDF/BDF) and reuses their helpers; :meth:`RecordingHeader.skeleton` gives
a zero-length Session on which the analysis context can be resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from nkt_motion.errors import FileFormatError
from nkt_motion.io._common import group_streams
from nkt_motion.io.bids_read import _check_rate, _events, _ids, _load_json
from nkt_motion.io.edf import EdfContent, channels_from_labels, read_edf_content, split_annotations
from nkt_motion.io.tidy_csv import read_table
from nkt_motion.model import Channel, Session, Stream

__all__ = ["RecordingHeader", "StoredStream", "read_header"]


@dataclass(frozen=True, slots=True)
class StoredStream:
    """One stream of a recording and where its samples are stored.

    Attributes
    ----------
    name : str
        Stream name (``emg``, ``imu``...).
    fs : float
        Rate in Hz.
    t0 : float
        Session time of the first sample, seconds.
    n_samples : int
        Length in samples.
    channels : tuple of Channel
        Channel metadata, in storage order.
    file : Path
        File holding the samples.
    storage : {"edf", "tsv"}
        EDF/BDF signals, or the columns of a header-less BIDS motion TSV.
    columns : tuple of int
        Signal index (EDF) or column index (TSV) of each channel.
    offset : int
        Samples stored before the stream's first sample (BDF front padding).
    history : tuple of str
        Processing history restored by the reader.
    """

    name: str
    fs: float
    t0: float
    n_samples: int
    channels: tuple[Channel, ...]
    file: Path
    storage: Literal["edf", "tsv"]
    columns: tuple[int, ...]
    offset: int = 0
    history: tuple[str, ...] = ()

    @property
    def stop(self) -> float:
        """Session time just after the last sample, seconds."""
        return self.t0 + self.n_samples / self.fs


@dataclass(frozen=True, slots=True, eq=False)
class RecordingHeader:
    """Streams, events and ids of a recording, without its samples.

    Attributes
    ----------
    streams : mapping of str to StoredStream
        In the order the full reader builds them.
    events, gaps : pandas.DataFrame
        As the full reader returns them.
    subject, session_id : str
        Ids.
    meta : dict
        Session metadata as the full reader returns it.
    """

    streams: MappingProxyType[str, StoredStream]
    events: pd.DataFrame
    gaps: pd.DataFrame
    subject: str
    session_id: str
    meta: dict[str, Any]

    @property
    def n_bytes(self) -> int:
        """Size of every sample as float64, bytes."""
        return sum(8 * s.n_samples * len(s.channels) for s in self.streams.values())

    def skeleton(self) -> Session:
        """Return the Session with every stream and channel but no samples.

        Returns
        -------
        Session
            Zero-length streams, the events, ids and metadata (no gaps).
        """
        streams = [
            Stream(s.name, np.empty((len(s.channels), 0)), s.fs, s.channels, t0=s.t0)
            for s in self.streams.values()
        ]
        return Session(
            streams,
            events=self.events,
            subject=self.subject,
            session_id=self.session_id,
            meta=self.meta,
        )


def _grouped(path: Path, head: EdfContent, channels: list[Channel]) -> dict[str, StoredStream]:
    """Streams as :func:`~nkt_motion.io._common.group_streams` builds them, t0 = 0."""
    empty = [np.empty(0)] * len(channels)
    index = {c.name: i for i, c in enumerate(channels)}
    out = {}
    for name, st in group_streams(channels, empty, head.rates).items():
        cols = tuple(index[c.name] for c in st.channels)
        n = head.n_samples[cols[0]]
        out[name] = StoredStream(name, st.fs, 0.0, n, st.channels, path, "edf", cols)
    return out


def _edf_file(path: Path) -> RecordingHeader:
    head = read_edf_content(path, samples=False)
    streams = _grouped(path, head, channels_from_labels(head.labels, head.units, path=path))
    events, gaps, other = split_annotations(head.annotations, path=path)
    meta: dict[str, Any] = {"source": str(path)}
    if other:
        meta["other_annotations"] = other
    subject = head.subject if head.subject.isalnum() else "01"
    return RecordingHeader(MappingProxyType(streams), events, gaps, subject, "01", meta)


def _from_record(
    name: str,
    rec: dict[str, Any],
    file: Path,
    storage: Literal["edf", "tsv"],
    columns: Callable[[tuple[Channel, ...]], Iterable[int]],
) -> StoredStream:
    chans = tuple(Channel(**c) for c in rec["channels"])
    return StoredStream(
        name,
        float(rec["fs"]),
        float(rec["t0"]),
        int(rec["n_samples"]),
        chans,
        file,
        storage,
        tuple(columns(chans)),
        offset=int(rec.get("front_pad", 0)),
        history=tuple(rec["history"]),
    )


def _block_streams(path: Path, head: EdfContent, block: dict[str, Any]) -> dict[str, StoredStream]:
    index = {label: i for i, label in enumerate(head.labels)}
    out = {}
    for name, rec in block.items():
        missing = [str(c["name"]) for c in rec["channels"] if c["name"] not in index]
        if missing:
            raise FileFormatError(
                "signal listed in the sidecar is absent", path=path, channel=missing[0]
            )
        out[name] = _from_record(
            name, rec, path, "edf", lambda chans: [index[c.name] for c in chans]
        )
    return out


def _foreign_streams(path: Path, head: EdfContent) -> dict[str, StoredStream]:
    tsv = Path(str(path).rsplit("_emg.", 1)[0] + "_channels.tsv")
    table = read_table(tsv, sep="\t", dtype=str).set_index("name") if tsv.is_file() else None
    units = list(head.units)
    if table is not None and "units" in table.columns:
        units = [str(table["units"].get(lb, u)) for lb, u in zip(head.labels, units, strict=True)]
    return _grouped(path, head, channels_from_labels(head.labels, units, path=path))


def _motion(folder: Path) -> dict[str, StoredStream]:
    out = {}
    for tsv in sorted(folder.glob("*_motion.tsv")):
        sidecar_path = tsv.with_name(tsv.name.replace("_motion.tsv", "_motion.json"))
        block = _load_json(sidecar_path).get("NktMotion", {}).get("streams")
        if block is None:
            raise FileFormatError("motion sidecar lacks the NktMotion block", path=sidecar_path)
        ((name, rec),) = block.items()
        out[name] = _from_record(name, rec, tsv, "tsv", lambda chans: range(len(chans)))
    return out


def _bids_file(path: Path) -> RecordingHeader:
    ses = path.parent.parent
    sidecar_path = path.with_name(path.name.rsplit(".", 1)[0] + ".json")
    head = read_edf_content(path, samples=False)
    sidecar = _load_json(sidecar_path)
    _check_rate(sidecar, head.rates, sidecar_path)
    block = sidecar.get("NktMotion", {})
    streams = (
        _block_streams(path, head, block["streams"])
        if "streams" in block
        else _foreign_streams(path, head)
    )
    streams.update(_motion(ses / "motion"))
    origin = float(block.get("time_origin", 0.0))
    tables = _events(ses / "emg", origin) or _events(ses / "motion", origin)
    if tables is None:
        ann = head.annotations
        tables = split_annotations(ann.assign(onset=ann["onset"] + origin), path=path)[:2]
    meta = block.get("meta", {"task": sidecar.get("TaskName", "nkt"), "source": str(ses)})
    names = _ids(ses)
    return RecordingHeader(
        MappingProxyType(streams),
        *tables,
        str(block.get("subject", names[0])),
        str(block.get("session", names[1])),
        dict(meta),
    )


def read_header(path: Path, kind: Literal["bids", "edf"]) -> RecordingHeader:
    """Read the header of a BIDS EMG data file or a plain EDF/BDF file.

    Parameters
    ----------
    path : Path
        The ``_emg.bdf``/``_emg.edf`` of a BIDS recording, or a plain EDF/BDF.
    kind : {"bids", "edf"}
        Which of the two.

    Returns
    -------
    RecordingHeader
        Streams, events, gaps, ids and metadata.

    Raises
    ------
    FileFormatError
        If a file is missing or unreadable, a label breaks the conventions, or a
        sidecar is invalid.

    Examples
    --------
    >>> read_header(Path("absent.bdf"), "edf")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: absent.bdf: file does not exist
    """
    return _bids_file(path) if kind == "bids" else _edf_file(path)

"""What an EDF/BDF-backed recording holds, read from its headers and sidecars only.

:func:`read_header` gives a :class:`RecordingHeader`: each stream
:func:`nkt_motion.read` would build (name, rate, start, length, channels with
their labels and units) and where its samples are stored (signals of the
EDF/BDF file, or columns of a BIDS motion TSV), together with the events,
gaps, ids and metadata, without reading any sample. It follows the readers of
:mod:`nkt_motion.io` (BIDS with and without the ``NktMotion`` sidecar block,
plain EDF/BDF) and picks the recording of a path as :func:`nkt_motion.read`
does (:func:`recording_file`). :meth:`RecordingHeader.skeleton` gives a
zero-length Session on which the analysis context can be resolved, and
:func:`nkt_motion.io.windows.read_windows` reads parts of the samples.
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
from nkt_motion.io._locate import EdfKind, bids_data_files, bids_session, edf_kind
from nkt_motion.io.bids_read import _check_rate, _events, _ids, _load_json, _meta
from nkt_motion.io.edf import EdfContent, channels_from_labels, read_edf_content, split_annotations
from nkt_motion.io.tidy_csv import read_table
from nkt_motion.model import Channel, Session, Stream

__all__ = ["EdfKind", "RecordingHeader", "StoredStream", "read_header", "recording_file"]


@dataclass(frozen=True, slots=True)
class StoredStream:
    """One stream of a recording and where its samples are stored.

    The stream :func:`nkt_motion.read` builds has the same name, rate, start,
    length, channels and history, with data of shape ``(len(channels),
    n_samples)``.

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

    Examples
    --------
    >>> emg = StoredStream("emg", 2000.0, 0.5, 4000, (Channel("EMG GMED L", "emg", "uV"),),
    ...                    Path("rec.bdf"), "edf", (0,))
    >>> emg.stop, emg.ch_names, emg.units
    (2.5, ['EMG GMED L'], ['uV'])
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

    @property
    def ch_names(self) -> list[str]:
        """Channel labels (``"EMG GMED L"``...), in storage order."""
        return [c.name for c in self.channels]

    @property
    def units(self) -> list[str]:
        """Physical unit of each channel (``"uV"``, ``"m/s^2"``...)."""
        return [c.unit for c in self.channels]


@dataclass(frozen=True, slots=True, eq=False)
class RecordingHeader:
    """Streams, events and ids of a recording, without its samples.

    Attributes
    ----------
    streams : mapping of str to StoredStream
        In the order :func:`nkt_motion.read` builds them.
    events, gaps : pandas.DataFrame
        As :func:`nkt_motion.read` returns them (``Session.events``,
        ``Session.gaps``; times in seconds).
    subject, session_id : str
        Ids.
    meta : dict
        Session metadata as :func:`nkt_motion.read` returns it.

    Examples
    --------
    See :func:`read_header`.
    """

    streams: MappingProxyType[str, StoredStream]
    events: pd.DataFrame
    gaps: pd.DataFrame
    subject: str
    session_id: str
    meta: dict[str, Any]

    @property
    def n_bytes(self) -> int:
        """Size of every sample as float64, bytes (what reading in full holds)."""
        return sum(8 * s.n_samples * len(s.channels) for s in self.streams.values())

    @property
    def duration(self) -> float:
        """Seconds from the first stream's start to the last one's end (0 without streams)."""
        if not self.streams:
            return 0.0
        streams = self.streams.values()
        return max(s.stop for s in streams) - min(s.t0 for s in streams)

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
    meta = _meta(block, sidecar, ses, path)
    names = _ids(ses)
    return RecordingHeader(
        MappingProxyType(streams),
        *tables,
        str(block.get("subject", names[0])),
        str(block.get("session", names[1])),
        meta,
    )


def recording_file(
    path: str | Path,
    *,
    subject: str | None = None,
    session: str | None = None,
    task: str | None = None,
) -> tuple[Path, EdfKind] | None:
    """Return the EDF/BDF data file :func:`nkt_motion.read` reads for a path, and its kind.

    Parameters
    ----------
    path : str or Path
        Anything :func:`nkt_motion.read` accepts.
    subject, session, task : str, optional
        As for :func:`nkt_motion.read`: which session of a BIDS root, which task.

    Returns
    -------
    (Path, {"bids", "edf"}) or None
        The ``_emg.bdf``/``_emg.edf`` of a BIDS recording (a data file, or the
        one data file of the session a BIDS folder names) or a plain EDF/BDF
        file; None when the path is read otherwise (tidy CSV, a BIDS session
        with motion files only or several tasks, the shipped real datasets).
        The file need not exist.

    Raises
    ------
    FileFormatError
        If a BIDS root holds several sessions and ``subject``/``session`` do
        not pick one.

    Examples
    --------
    >>> recording_file("sub-01/ses-01/emg/sub-01_ses-01_task-a_emg.bdf")
    (PosixPath('sub-01/ses-01/emg/sub-01_ses-01_task-a_emg.bdf'), 'bids')
    >>> recording_file("night.edf"), recording_file("s01.csv")
    ((PosixPath('night.edf'), 'edf'), None)
    """
    p = Path(path)
    if p.is_dir():
        ses = bids_session(p, subject, session)
        data = bids_data_files(ses, task) if ses is not None else []
        return (data[0], "bids") if len(data) == 1 else None
    kind = edf_kind(p)
    return None if kind is None else (p, kind)


def read_header(
    path: str | Path,
    *,
    subject: str | None = None,
    session: str | None = None,
    task: str | None = None,
) -> RecordingHeader:
    """Read what an EDF/BDF-backed recording holds, without its samples.

    Parameters
    ----------
    path : str or Path
        A BIDS ``_emg.bdf``/``_emg.edf``, a BIDS folder whose session has one
        (see :func:`recording_file`), or a plain EDF/BDF file.
    subject, session, task : str, optional
        As for :func:`nkt_motion.read`.

    Returns
    -------
    RecordingHeader
        Streams (names, rates, starts, lengths, channel labels and units),
        events, gaps, ids and metadata, as :func:`nkt_motion.read` gives them.

    Raises
    ------
    FileFormatError
        If the path does not exist or holds no EDF/BDF recording, a file is
        unreadable, a label breaks the conventions, or a sidecar is missing or
        invalid; the message names the file.

    Examples
    --------
    >>> import tempfile
    >>> from nkt_motion.io import write_bids
    >>> from nkt_motion.simulate import gmed_adl_hip_flexion, simulate
    >>> s = simulate(gmed_adl_hip_flexion(n_trials=2).replace(trial_s=1.0)).session
    >>> folder = write_bids(s, Path(tempfile.mkdtemp()))
    >>> h = read_header(folder)
    >>> emg = h.streams["emg"]
    >>> emg.ch_names, emg.units, emg.fs, emg.n_samples == s["emg"].n_samples
    (['EMG GMED L', 'EMG ADL L', 'EMG TFL L'], ['uV', 'uV', 'uV'], 2000.0, True)
    >>> (h.subject, h.session_id), h.events["label"].tolist() == s.events["label"].tolist()
    (('01', '01'), True)
    >>> read_header("absent.bdf")
    Traceback (most recent call last):
    ...
    nkt_motion.errors.FileFormatError: absent.bdf: file does not exist
    """
    found = recording_file(path, subject=subject, session=session, task=task)
    if found is None:
        p = Path(path)
        if not p.exists():
            raise FileFormatError("path does not exist", path=p)
        raise FileFormatError(
            "holds no EDF/BDF recording whose header can be read (a plain .edf/.bdf file, "
            "a BIDS _emg.bdf/_emg.edf, or a BIDS folder whose session has one)",
            path=p,
        )
    file, kind = found
    return _bids_file(file) if kind == "bids" else _edf_file(file)

"""One conformance check run for every reader (in the spirit of MNE's _test_raw_reader)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyedflib
import pytest

import nkt_motion as nm
from nkt_motion.errors import NktMotionError
from nkt_motion.vocab import MUSCLES, parse_channel_label, parse_event_label


def quantum(stream: nm.Stream) -> np.ndarray:
    """Largest BDF quantisation step per channel (24-bit, range from the data)."""
    from nkt_motion.io.bdf_write import physical_bound

    bounds = np.array([physical_bound(np.nan_to_num(row)) for row in stream.data])
    return 2 * bounds / (2**24 - 1)


def check_stream(stream: nm.Stream) -> None:
    data = stream.data
    assert data.dtype == np.float64
    assert data.ndim == 2 and data.shape == (len(stream.channels), stream.n_samples)
    assert not data.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        data[..., :1] = 0.0
    assert stream.fs > 0 and np.isfinite(stream.t0)
    assert np.all(np.diff(stream.times) > 0)
    for ch in stream.channels:
        parsed = parse_channel_label(ch.name)
        assert parsed.kind == ch.kind
        if ch.kind == "emg":
            assert ch.muscle in MUSCLES and ch.side in ("L", "R")
            assert ch.muscle == parsed.muscle


def check_tables(session: nm.Session) -> None:
    ev = session.events
    assert list(ev.columns) == ["onset", "duration", "label", "phase", "muscle"]
    assert np.all(np.diff(ev["onset"].to_numpy()) >= 0)
    assert (ev["duration"] >= 0).all()
    for label in ev["label"]:
        assert parse_event_label(label).label == label
    if len(session.streams):
        start = min(s.t0 for s in session.streams.values())
        tol = max(1 / s.fs for s in session.streams.values()) + 1e-9  # crop keeps whole samples
        assert (ev["onset"] >= start - tol).all()
        assert (ev["onset"] + ev["duration"] <= start + session.duration + tol).all()
    gaps = session.gaps
    assert set(gaps["stream"]) <= set(session.streams)
    for row in gaps.itertuples(index=False):
        st = session[row.stream]
        i = round((row.onset - st.t0) * st.fs)
        rows = slice(None) if not row.channel else st.channel_index(row.channel)
        if 0 <= i < st.n_samples:
            assert np.isnan(st.data[rows, i]).all(), row


def assert_same(a: nm.Session, b: nm.Session, *, quantised: set[str]) -> None:
    """``b`` equals ``a`` (data within the BDF step for the streams in ``quantised``)."""
    assert (a.subject, a.session_id) == (b.subject, b.session_id)
    assert dict(a.meta) == dict(b.meta)
    assert list(a.streams) == list(b.streams) or set(a.streams) == set(b.streams)
    for name, sa in a.streams.items():
        sb = b[name]
        assert (sb.fs, sb.n_samples, sb.history) == (sa.fs, sa.n_samples, sa.history)
        assert sb.t0 == pytest.approx(sa.t0, abs=1e-12)
        assert sb.channels == sa.channels
        assert np.array_equal(np.isnan(sa.data), np.isnan(sb.data))
        tol = quantum(sa)[:, None] / 2 + 1e-9 if name in quantised else 0.0
        diff = np.abs(np.nan_to_num(sa.data) - np.nan_to_num(sb.data))
        assert (diff <= tol).all(), f"{name}: max error {diff.max()}"
    ea, eb = a.events, b.events
    assert ea["label"].tolist() == eb["label"].tolist()
    np.testing.assert_allclose(eb["onset"], ea["onset"], atol=1e-9)
    np.testing.assert_allclose(eb["duration"], ea["duration"], atol=1e-9)
    ga, gb = a.gaps, b.gaps
    assert (
        ga[["stream", "channel", "reason"]].values.tolist()
        == gb[["stream", "channel", "reason"]].values.tolist()
    )
    np.testing.assert_allclose(gb["onset"], ga["onset"], atol=1e-9)


def check_reader(
    factory: Callable[[], nm.Session],
    *,
    tmp_path: Path,
    path: Path | None = None,
    round_trip: bool = True,
) -> nm.Session:
    """Run the shared checks on the Session a reader returns.

    ``factory`` calls the reader; ``path``, when given, must give the same session
    through :func:`nkt_motion.read`; ``round_trip`` writes BIDS and reads it back.
    """
    session = factory()
    assert isinstance(session, nm.Session)
    assert len(session.streams) > 0
    for stream in session.streams.values():
        check_stream(stream)
    check_tables(session)
    # crop and pick keep working on what the reader built
    mid = min(s.t0 for s in session.streams.values()) + session.duration / 2
    half = session.crop(mid, None)
    for s in half.streams.values():
        check_stream(s)
        assert s.t0 >= mid - 1 / s.fs
    check_tables(half)
    emg = session.pick(kinds=["emg"])
    assert all(set(s.kinds) == {"emg"} for s in emg.streams.values())
    if path is not None:
        again = nm.read(path)
        assert_same(session, again, quantised=set())
    if round_trip:
        folder = nm.write_bids(session, tmp_path / "bids")
        back = nm.read(folder)
        quantised = {n for n, s in session.streams.items() if not set(s.kinds) <= {
            "acc", "gyr", "mag", "quat"}}  # fmt: skip
        assert_same(session, back, quantised=quantised)
        assert_same(session, nm.read(tmp_path / "bids"), quantised=quantised)
    return session


def assert_file_error(
    call: Callable[[], object], *, path: Path, channel: str | None = None, match: str | None = None
) -> NktMotionError:
    """``call`` raises an NktMotionError whose message names the file and the channel."""
    with pytest.raises(NktMotionError, match=match) as info:
        call()
    text = str(info.value)
    assert path.name in text, text
    if channel is not None:
        assert channel in text, text
    return info.value


def make_session(*, nan: bool = True, seed: int = 0) -> nm.Session:
    """Small EMG (2 kHz) + IMU (100 Hz) + force session with events and gaps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 80.0, (2, 4000))
    if nan:
        x[0, 100:150] = np.nan  # listed in gaps below
        x[1, 3000:3010] = np.nan  # listed in gaps below
    emg = nm.Stream(
        "emg",
        x,
        2000.0,
        [
            nm.Channel("EMG GMED L", "emg", "uV", muscle="GMED", side="L", placement="SENIAM"),
            nm.Channel("EMG ADL L", "emg", "mV", muscle="ADL", side="L"),
        ],
        t0=0.5,
        history=("bandpass(20, 450)",),
    )
    imu = nm.Stream(
        "imu",
        rng.normal(size=(4, 220)),
        100.0,
        [
            nm.Channel("ACC X pelvis", "acc", "m/s^2", site="pelvis"),
            nm.Channel("GYR Z pelvis", "gyr", "deg/s", site="pelvis"),
            nm.Channel("QUAT W thigh_L", "quat", "1", side="L", site="thigh_L"),
            nm.Channel("MAG Y trunk", "mag", "uT", site="trunk"),
        ],
        t0=0.3,
    )
    force = nm.Stream("force", rng.normal(5, 1, (1, 4000)), 2000.0,
                      [nm.Channel("FORCE load", "force", "kgf")], t0=0.5)  # fmt: skip
    events = nm.make_events([0.6, 1.0, 1.7], [0.3, 0.5, 0.4], ["rest", "pre/test/GMED", "ref/ADL"])
    gaps = nm.make_gaps(
        ["emg", "emg"],
        ["EMG GMED L", "EMG ADL L"],
        [0.55, 2.0],
        [0.025, 0.005],
        ["packet loss: 3 packets", "disconnect"],
    )
    if not nan:
        gaps = gaps.iloc[:0]
    meta = {"task": "gmed", "power_line_frequency": 50, "operator": "A", "list": [1, 2]}
    return nm.Session([emg, imu, force], events=events, gaps=gaps, subject="07",
                      session_id="2", meta=meta)  # fmt: skip


def write_plain(path, labels, units, rates, seconds=2, *, annotations=(), edf=False):
    """Write a file with pyedflib directly (independent of nkt_motion's writer)."""
    kind = pyedflib.FILETYPE_EDFPLUS if edf else pyedflib.FILETYPE_BDFPLUS
    dmax = 32767 if edf else 2**23 - 1
    rng = np.random.default_rng(1)
    signals = [rng.uniform(-100, 100, int(fs * seconds)) for fs in rates]
    w = pyedflib.EdfWriter(str(path), len(labels), file_type=kind)
    w.setSignalHeaders(
        [
            {"label": lb, "dimension": u, "sample_frequency": fs, "physical_min": -200,
             "physical_max": 200, "digital_min": -dmax - 1, "digital_max": dmax,
             "transducer": "", "prefilter": ""}
            for lb, u, fs in zip(labels, units, rates, strict=True)
        ]
    )  # fmt: skip
    w.set_number_of_annotation_signals(4)
    w.writeSamples(signals)
    for onset, dur, text in annotations:
        w.writeAnnotation(onset, dur, text)
    w.close()
    return signals

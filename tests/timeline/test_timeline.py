"""Timeline maths on synthetic packet timing: clock fit, counters, loss, gaps, drift."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nkt_motion.capture import CaptureEvent, Packet, SensorEntry
from nkt_motion.devices import nkt_protocol as proto
from nkt_motion.errors import ValidationError
from nkt_motion.timeline import assemble, fit_clock, order_by_sequence, unwrap_counter

EMG = proto.EMG_UUID
PER = 20  # samples per packet at 2 kHz: 10 ms


def nkt_packets(
    n_packets: int,
    *,
    skew_ppm: float = 0.0,
    seed: int = 0,
    seq0: int = 0,
    start_s: float = 1.0,
    sine_hz: float | None = None,
    signal: np.ndarray | None = None,
) -> tuple[list[Packet], np.ndarray, np.ndarray]:
    """EMG packets of a device with a skewed clock and random positive BLE latency."""
    rng = np.random.default_rng(seed)
    if signal is None:
        signal = np.rint(rng.normal(0, 300, (4, n_packets * PER)))
    if sine_hz is not None:
        k = np.arange(n_packets * PER)
        signal = np.rint(np.tile(1000 * np.sin(2 * np.pi * sine_hz * k / 2000.0), (4, 1)))
    rate = 2000.0 * (1 + skew_ppm * 1e-6)  # device samples per host second
    last = (np.arange(n_packets) + 1) * PER - 1
    true_t = start_s + last / rate
    latency = rng.gamma(2.0, 0.004, n_packets) + 0.0075 * rng.integers(0, 2, n_packets)
    packets = [
        Packet(
            "s1",
            EMG,
            int((true_t[i] + latency[i]) * 1e9),
            proto.encode_emg_packet(
                signal[:, i * PER : (i + 1) * PER],
                sequence=(seq0 + i) & 0xFFFF,
                first_sample=i * PER,
            ),
        )
        for i in range(n_packets)
    ]
    return packets, signal, true_t


SENSOR = [SensorEntry("s1", "F0:00:00:00:00:01", "nkt", {}, (EMG,))]


def test_fit_clock_recovers_a_line_under_positive_noise() -> None:
    rng = np.random.default_rng(1)
    dev = np.sort(rng.uniform(0, 60, 5000))
    host = 2.5 + dev * (1 - 150e-6) + rng.exponential(0.01, dev.size)
    fit = fit_clock(dev, host)
    assert fit.drift_ppm == pytest.approx(-150, abs=1.0)
    assert fit.offset_s == pytest.approx(2.5, abs=2e-4)
    assert 0.005 < fit.latency_p50_s < 0.01


def test_fit_clock_rejects_bad_input() -> None:
    with pytest.raises(ValidationError, match="device_s"):
        fit_clock([], [])
    with pytest.raises(ValidationError, match="equal length"):
        fit_clock([1.0, 2.0], [1.0])
    with pytest.raises(ValidationError):
        fit_clock([1.0, np.nan], [1.0, 2.0])


def test_timeline_within_2ms_of_truth_over_60s_at_200ppm() -> None:
    rate = 2000.0 * (1 + 200e-6)
    packets, _, true_t = nkt_packets(6000, skew_ppm=200.0, sine_hz=5.0)
    a = assemble(SENSOR, packets)
    report = a.sensors["s1"]
    assert report.drift_ppm == pytest.approx(-200 / (1 + 200e-6), abs=2.0)
    assert report.offset_ms is not None and report.drift_ppm is not None
    # the clock map: session time of every packet's last sample vs the truth
    last = np.arange(6000) * PER + PER - 1
    mapped = report.offset_ms * 1e-3 + (1 + report.drift_ppm * 1e-6) * last / 2000.0
    assert np.max(np.abs(mapped - true_t)) < 2e-3
    # the stream on the session grid: the sine at each grid time is the device's
    emg = a.session["emg"]
    (slips,) = a.session.meta["clock_slips"]  # one slip per 1 / 200 ppm samples, recorded
    assert slips["sensor"] == "s1" and slips["repeated_s"] == []
    assert len(slips["dropped_s"]) == pytest.approx(6000 * PER * 200e-6, abs=2)
    assert any("dropped" in h for h in emg.history)
    assert emg.duration == pytest.approx(6000 * PER / rate, abs=2e-3)
    device_index = (emg.times - 1.0) * rate
    truth = 1000 * np.sin(2 * np.pi * 5.0 * device_index / 2000.0)
    ok = ~np.isnan(emg.data[0])
    assert ok.mean() > 0.999
    # 12 uV of a 5 Hz, 1000 uV sine is 0.38 ms: half a sample period + the fit's error
    assert np.max(np.abs(emg.data[0, ok] - truth[ok])) < 12.0


def test_lossless_short_run_is_exact_and_counts_nothing() -> None:
    packets, signal, _ = nkt_packets(300)
    a = assemble(SENSOR, packets[::-1])  # any order in, sequence order out
    np.testing.assert_array_equal(a.session["emg"].data, signal)
    r = a.sensors["s1"]
    assert (r.lost_packets, r.duplicates, r.malformed) == (0, 0, 0)
    assert a.session.gaps.empty


def test_loss_duplicates_reordering_and_wraparound_are_counted_exactly() -> None:
    packets, signal, _ = nkt_packets(400, seq0=65500)  # the u16 sequence wraps at packet 36
    drop = {35, 36, 37, 200, 399 - 5}
    kept = [p for i, p in enumerate(packets) if i not in drop]
    kept += [kept[10], kept[50]]  # two duplicates
    late = kept[100]
    kept[100] = Packet(late.sensor, late.char_uuid, late.host_ns + 80_000_000, late.payload)
    malformed = Packet("s1", EMG, kept[5].host_ns, b"\x00\x01\x02")
    mtu20 = Packet("s1", EMG, kept[6].host_ns, kept[6].payload[:20])  # 20-byte MTU cut
    a = assemble(SENSOR, [*kept, malformed, mtu20], [])
    r = a.sensors["s1"]
    assert r.lost_packets == len(drop)
    assert r.lost_samples == len(drop) * PER
    assert r.duplicates == 2
    assert r.malformed == 2  # 3 bytes; 20 bytes is not a whole 4-channel sample
    # slow reference for reordering: arrivals after a later-numbered packet
    by_arrival = sorted(kept[:-2], key=lambda p: p.host_ns)
    seqs = [int.from_bytes(p.payload[:2], "little") for p in by_arrival]
    unwrapped = [s if s >= 65500 else s + 65536 for s in seqs]
    late_count = sum(1 for i, s in enumerate(unwrapped) if i and s < max(unwrapped[:i]))
    assert r.reordered == late_count >= 1
    data = a.session["emg"].data
    missing = np.isnan(data[0])
    assert missing.sum() == len(drop) * PER
    expected = signal.copy()
    for i in drop:
        expected[:, i * PER : (i + 1) * PER] = np.nan
    np.testing.assert_array_equal(data, expected[:, : data.shape[1]])
    gaps = a.session.gaps
    assert sorted(gaps.reason) == sorted(
        ["packet loss: 3 packets", "packet loss: 1 packets", "packet loss: 1 packets"]
    )
    assert gaps.duration.sum() == pytest.approx(len(drop) * PER / 2000.0)


def test_reconnect_starts_a_new_segment_and_records_a_disconnect_gap() -> None:
    first, _, _ = nkt_packets(300, start_s=1.0)
    second, _, _ = nkt_packets(300, start_s=5.0, seed=2)  # device restarts its counters
    events = [
        CaptureEvent("s1", "connect", int(0.5e9)),
        CaptureEvent("s1", "disconnect", int(4.2e9)),
        CaptureEvent("s1", "connect", int(4.5e9)),
    ]
    a = assemble(SENSOR, [*first, *second], events)
    gaps = a.session.gaps
    assert list(gaps.reason) == ["disconnect"]
    assert gaps.onset[0] == pytest.approx(1.0 + 0.0005 + 3.0 - 0.0005, abs=0.02)
    assert gaps.duration[0] == pytest.approx(1.0, abs=0.02)
    assert a.sensors["s1"].connections == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3000), min_size=1, max_size=60), st.integers(0, 65535))
def test_unwrap_and_order_match_a_slow_reference(steps: list[int], start: int) -> None:
    true = start + np.cumsum(steps)
    seen = np.unique(true)
    wrapped = seen % 65536
    unwrapped = unwrap_counter(wrapped, bits=16)
    np.testing.assert_array_equal(unwrapped - unwrapped[0], seen - seen[0])
    report = order_by_sequence(unwrapped)
    assert report.lost == int(seen[-1] - seen[0] + 1 - seen.size)
    assert report.duplicates == 0 and report.reordered == 0


def test_reconnection_packets_before_their_connect_event_start_the_new_connection() -> None:
    first, signal_1, _ = nkt_packets(300, start_s=1.0)
    second, signal_2, _ = nkt_packets(300, start_s=5.0, seed=2)  # counters restart
    early = second[4].host_ns + 1  # the recorder's event comes after five packets
    events = [
        CaptureEvent("s1", "connect", int(0.5e9)),
        CaptureEvent("s1", "disconnect", int(4.2e9)),
        CaptureEvent("s1", "connect", early),
    ]
    a = assemble(SENSOR, [*first, *second], events)
    r = a.sensors["s1"]
    assert (r.connections, r.duplicates, r.lost_packets) == (2, 0, 0)
    assert list(a.session.gaps.reason) == ["disconnect"]
    data = a.session["emg"].data
    np.testing.assert_array_equal(data[:, : 300 * PER], signal_1)
    np.testing.assert_array_equal(data[:, -300 * PER :], signal_2)
    # the same capture without the connect event: the counter alone splits it
    alone = assemble(SENSOR, [*first, *second], events[:1])
    assert alone.sensors["s1"].connections == 2 and alone.sensors["s1"].duplicates == 0


def _emg_like(n: int, seed: int, onset: int) -> np.ndarray:
    """Band-limited (20-450 Hz) noise at 2 kHz, silent (0) until ``onset``, then bursts."""
    from scipy import signal as sps

    rng = np.random.default_rng(seed)
    sos = sps.butter(6, [20.0, 450.0], btype="bandpass", output="sos", fs=2000.0)
    noise = sps.sosfiltfilt(sos, rng.normal(0, 1, (4, n + 4000)))[:, 2000 : n + 2000]
    k = np.arange(n)
    amp = 200.0 + 400.0 * (np.sin(2 * np.pi * 0.3 * k / 2000.0) > 0)
    out = np.rint(noise / noise.std() * amp)
    out[:, :onset] = 0.0
    out[:, onset] = 2000.0  # the first sample of the burst is unmistakable
    return out


@pytest.mark.parametrize("skew_ppm", [200.0, -200.0, 20.0, -20.0])
def test_amplitude_and_onset_do_not_depend_on_clock_drift(skew_ppm: float) -> None:
    n_packets, onset = 12_000, 60_000  # 2 minutes; the burst starts at 30 s device time
    signal = _emg_like(n_packets * PER, seed=3, onset=onset)
    packets, _, _ = nkt_packets(n_packets, skew_ppm=skew_ppm, seed=4, signal=signal)
    a = assemble(SENSOR, packets)
    emg = a.session["emg"]
    assert a.session.meta["clock_slips"]  # 20 ppm over 2 min is 2.4 ms: samples slip
    rate = 2000.0 * (1 + skew_ppm * 1e-6)
    true_t = 1.0 + np.arange(signal.shape[1]) / rate  # when the device took each sample
    for lo in np.arange(31.0, emg.times[-1] - 3.0, 7.3):  # 3 s windows, session time
        truth = signal[:, (true_t >= lo) & (true_t < lo + 3.0)]
        got = emg.data[:, (emg.times >= lo) & (emg.times < lo + 3.0)]
        ratio = np.sqrt(np.mean(got**2, axis=1) / np.mean(truth**2, axis=1))
        assert np.all(np.abs(ratio - 1) < 2e-3), (lo, ratio)
    # burst onset: within one sample period of the truth, plus the clock fit's own error
    r = a.sensors["s1"]
    assert r.offset_ms is not None and r.drift_ppm is not None
    fitted = r.offset_ms * 1e-3 + (1 + r.drift_ppm * 1e-6) * onset / 2000.0
    seen = emg.times[np.flatnonzero(np.nan_to_num(emg.data[0]) != 0)[0]]
    assert abs(seen - true_t[onset]) <= 1 / 2000.0 + abs(fitted - true_t[onset])

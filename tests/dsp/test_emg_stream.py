"""Stream EMG methods and the session-level helpers."""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion import Channel, Session, SignalError, Stream, make_events
from nkt_motion.dsp import bandpass, envelope
from nkt_motion.model._processing import reference_amplitudes, session_onsets

FS = 2000.0
CHS = [
    Channel("EMG GMED L", "emg", "uV", muscle="GMED"),
    Channel("EMG ADL L", "emg", "uV", muscle="ADL"),
]


def _stream() -> Stream:
    rng = np.random.default_rng(0)
    gain = np.r_[np.ones(4000), np.full(4000, 10.0), np.ones(4000)]
    return Stream("emg", rng.normal(size=(2, 12_000)) * gain * [[1.0], [3.0]], FS, CHS, t0=10.0)


def test_methods_equal_array_functions_and_record_history() -> None:
    s = _stream()
    out = s.bandpass().notch().envelope()
    assert out.history == (
        "bandpass(low=20.0, high=450.0, order=4, zero_phase=True)",
        "notch(freq=50.0, quality=30.0, harmonics=False, zero_phase=True)",
        "envelope(cutoff=6.0, order=4, zero_phase=True)",
    )
    from nkt_motion.dsp import notch

    np.testing.assert_allclose(out.data, envelope(notch(bandpass(s.data, FS), FS), FS))
    assert out.t0 == 10.0 and out.ch_names == s.ch_names


def test_long_nan_runs_split_the_stream_and_short_runs_are_noted() -> None:
    data = np.array(_stream().data)
    data[1, 500:700] = np.nan
    # the array function refuses a long run and names the row ...
    with pytest.raises(SignalError, match=r"channel 'row 1'.*200 missing samples"):
        bandpass(data, FS)
    # ... the Stream method filters each stretch between gaps on its own: the gap stays
    # missing, nothing is invented, and the history says so
    out = Stream("emg", data, FS, CHS).bandpass()
    assert out.history[0] == "segments(n=3, short=0)"
    assert np.isnan(out.data[1, 500:700]).all()
    assert np.isfinite(out.data[1, :500]).all() and np.isfinite(out.data[1, 700:]).all()
    np.testing.assert_allclose(out.data[1, 700:], bandpass(data[1:2, 700:], FS)[0])
    data[1, 500:700] = 0.0
    data[0, 500:505] = np.nan
    out = Stream("emg", data, FS, CHS).bandpass()
    assert out.history[0] == "bridge_nans(runs=1)" and np.isfinite(out.data).all()


def test_reference_normalisation_and_session_onsets() -> None:
    s = _stream()
    ev = make_events(
        [10.2, 12.5, 12.5, 14.0], [1.5, 1.0, 1.0, 1.5], ["rest", "ref/GMED", "ref/ADL", "rest"]
    )
    amp = s.bandpass().moving_rms()
    sess = Session([amp], events=ev)
    ref = reference_amplitudes(sess)
    assert ref[1] / ref[0] == pytest.approx(3.0, rel=0.05)
    norm = amp.normalise(method="reference", reference=ref)
    assert norm.channels[0].unit == "a.u."
    assert norm.history[-1].startswith("normalise(method='reference', scale=[")
    on = session_onsets(Session([s.bandpass()], events=ev))
    assert sorted(on.channel) == ["EMG ADL L", "EMG GMED L"]
    np.testing.assert_allclose(on.onset, 12.0, atol=0.02)
    np.testing.assert_allclose(on.offset, 14.0, atol=0.02)


def test_session_onsets_needs_rest() -> None:
    with pytest.raises(SignalError, match="no 'rest' event"):
        session_onsets(Session([_stream()]))

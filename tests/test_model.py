"""Channel, Stream and Session: validation, immutability, slicing, pandas views."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nkt_motion import (
    Channel,
    Session,
    Stream,
    ValidationError,
    VocabularyError,
    channel_from_label,
    make_events,
    make_gaps,
    make_quality,
)


def emg_stream(n_ch=2, n=4000, fs=2000.0, t0=0.0, seed=0):
    labels = ["EMG GMED L", "EMG ADL L", "EMG TFL L", "EMG QL L"][:n_ch]
    chans = [channel_from_label(lab, "uV") for lab in labels]
    data = np.random.default_rng(seed).normal(size=(n_ch, n))
    return Stream("emg", data, fs, chans, t0=t0)


def imu_stream(n=200, fs=100.0):
    labels = [f"ACC {a} pelvis" for a in "XYZ"]
    return Stream("imu", np.zeros((3, n)), fs, [channel_from_label(x, "m/s^2") for x in labels])


def session():
    ev = make_events(
        [0.0, 0.5, 1.0, 1.5],
        [0.5, 0.25, 0.25, 0.25],
        ["rest", "pre/test/GMED", "pre/test/GMED", "post/test/GMED"],
    )
    gaps = make_gaps(["emg"], [""], [1.2], [0.01], ["packet loss"])
    return Session([emg_stream(), imu_stream()], events=ev, subject="07", gaps=gaps)


class TestChannel:
    def test_code_becomes_id(self):
        assert Channel("EMG GMED L", "emg", "uV", muscle="GMED").muscle == "gluteus_medius"

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"kind": "eeg"}, "kind must be one of"),
            ({"unit": "furlong"}, "unit for kind 'emg' must be one of"),
            ({"side": "X"}, "side must be 'L' or 'R'"),
            ({"name": " "}, "non-empty"),
        ],
    )
    def test_validation(self, kwargs, fragment):
        args = {"name": "EMG GMED L", "kind": "emg", "unit": "uV"} | kwargs
        with pytest.raises(ValidationError, match=fragment):
            Channel(**args)

    def test_unknown_muscle(self):
        with pytest.raises(VocabularyError, match="known codes"):
            Channel("EMG X L", "emg", "uV", muscle="XYZ")

    def test_from_label_sets_side_from_site(self):
        ch = channel_from_label("GYR X thigh_R", "deg/s")
        assert (ch.kind, ch.site, ch.side) == ("gyr", "thigh_R", "R")

    def test_repr_one_line(self):
        assert "\n" not in repr(channel_from_label("EMG GMED L", "uV"))


class TestStream:
    def test_repr(self):
        assert repr(emg_stream()) == "<Stream emg | emg | 2 ch | 2000.0 Hz | 2.0 s>"

    def test_data_is_readonly_copy(self):
        raw = np.ones((1, 10))
        s = Stream("emg", raw, 10.0, [channel_from_label("EMG GMED L", "uV")])
        raw[0, 0] = 5
        assert s.data[0, 0] == 1
        with pytest.raises(ValueError, match="read-only"):
            s.data[0, 0] = 3
        with pytest.raises(AttributeError):
            s.fs = 5.0  # type: ignore[misc]

    def test_integer_input_becomes_float64(self):
        s = Stream(
            "emg", np.ones((1, 4), dtype=np.int16), 10.0, [Channel("EMG GMED L", "emg", "uV")]
        )
        assert s.data.dtype == np.float64

    @pytest.mark.parametrize(
        ("data", "fs", "n_ch", "fragment"),
        [
            (np.zeros(10), 10.0, 1, r"must be 2-D \(n_channels, n_samples\), got shape \(10,\)"),
            (np.zeros((2, 10)), 10.0, 1, "1 channels given for data with 2 rows"),
            (np.zeros((1, 10)), 0.0, 1, "fs must be a finite number > 0 Hz, got 0.0"),
            (np.zeros((1, 10)), -5, 1, "got -5"),
            (np.full((1, 3), np.inf), 10.0, 1, "infinite"),
            ([["a", "b"]], 10.0, 1, "must be numeric"),
        ],
    )
    def test_validation(self, data, fs, n_ch, fragment):
        chans = [Channel(f"EMG GMED {s}", "emg", "uV") for s in "LR"][:n_ch]
        with pytest.raises(ValidationError, match=fragment):
            Stream("emg", data, fs, chans)

    def test_duplicate_channels(self):
        ch = Channel("EMG GMED L", "emg", "uV")
        with pytest.raises(ValidationError, match="duplicate channel names"):
            Stream("emg", np.zeros((2, 3)), 1.0, [ch, ch])

    def test_crop_by_time(self):
        s = emg_stream(t0=10.0)
        c = s.crop(10.5, 11.0)
        assert c.n_samples == 1000
        assert c.t0 == pytest.approx(10.5)
        np.testing.assert_array_equal(c.data, s.data[:, 1000:2000])

    def test_crop_outside_is_empty(self):
        assert emg_stream().crop(50, 60).n_samples == 0

    def test_crop_bad_order(self):
        with pytest.raises(ValidationError, match="tmax"):
            emg_stream().crop(2, 1)

    def test_pick(self):
        s = emg_stream(n_ch=3)
        assert s.pick(["EMG TFL L", "EMG GMED L"]).ch_names == ["EMG TFL L", "EMG GMED L"]
        assert s.pick(muscles=["ADL"]).ch_names == ["EMG ADL L"]
        assert s.pick(sides=["R"]).n_channels == 0
        with pytest.raises(ValidationError, match="has no channel 'EMG SOL L'"):
            s.pick(["EMG SOL L"])

    def test_replace_extends_history(self):
        s = emg_stream().replace(data=np.zeros((2, 4000)), step="zero()")
        assert s.history == ("zero()",)
        assert s.replace(step="again").history == ("zero()", "again")

    def test_to_dataframe(self):
        s = emg_stream(t0=1.0)
        df = s.to_dataframe()
        assert list(df.columns) == s.ch_names
        assert df.index[1] == pytest.approx(1.0005)
        np.testing.assert_array_equal(df.to_numpy().T, s.data)

    @given(
        st.integers(1, 500),
        st.floats(1.0, 5000.0),
        st.floats(-5, 5),
        st.floats(-1, 1),
        st.floats(0, 1),
    )
    def test_crop_property(self, n, fs, t0, a, b):
        s = Stream(
            "emg", np.arange(n, dtype=float)[None], fs, [Channel("EMG GMED L", "emg", "uV")], t0=t0
        )
        tmin, tmax = t0 + a * s.duration, t0 + (a + b) * s.duration
        c = s.crop(tmin, tmax)
        if c.n_samples:
            assert c.times[0] >= tmin - 1e-9
            assert c.times[-1] < tmax + 1e-9
            # every sample inside [tmin, tmax) is kept
            inside = (s.times >= tmin + 1e-9) & (s.times < tmax - 1e-9)
            assert set(s.data[0, inside]) <= set(c.data[0])


class TestSession:
    def test_repr(self):
        assert repr(session()) == (
            "<Session sub-07 ses-01 | emg 2 ch 2000.0 Hz, imu 3 ch 100.0 Hz | 4 events | 2.0 s>"
        )

    def test_events_columns_and_parsing(self):
        ev = session().events
        assert list(ev.columns) == ["onset", "duration", "label", "phase", "muscle"]
        assert ev.phase.tolist() == ["rest", "pre", "pre", "post"]
        assert ev.muscle.tolist()[1] == "gluteus_medius"

    def test_tables_are_copies(self):
        s = session()
        ev = s.events
        ev.loc[0, "onset"] = 99.0
        assert s.events.loc[0, "onset"] == 0.0
        with pytest.raises(AttributeError, match="immutable"):
            s.subject = "x"
        with pytest.raises(TypeError):
            s.streams["new"] = emg_stream()  # type: ignore[index]

    def test_bad_events(self):
        with pytest.raises(VocabularyError):
            Session(
                [emg_stream()],
                events=pd.DataFrame({"onset": [0.0], "duration": [1.0], "label": ["foo"]}),
            )
        with pytest.raises(ValidationError, match="lacks columns"):
            Session([emg_stream()], events=pd.DataFrame({"onset": [0.0]}))
        with pytest.raises(ValidationError, match="NaN"):
            make_events([np.nan], [1.0], ["rest"])

    def test_bad_ids_and_gaps(self):
        with pytest.raises(ValidationError, match="subject must be"):
            Session([emg_stream()], subject="sub-01")
        gaps = make_gaps(["eeg"], [""], [0.0], [1.0], ["x"])
        with pytest.raises(ValidationError, match="gaps name streams"):
            Session([emg_stream()], gaps=gaps)

    def test_stream_key_mismatch(self):
        with pytest.raises(ValidationError, match="differs from the stream's name"):
            Session({"imu": emg_stream()})

    def test_trials_yield_segments_of_every_stream(self):
        trials = list(session().trials("pre/test/GMED"))
        assert [t.index for t in trials] == [0, 1]
        assert trials[1].onset == 1.0
        assert trials[0].streams["emg"].n_samples == 500
        assert trials[0].streams["imu"].n_samples == 25
        # the gap at 1.2 s falls inside trial 1 and is kept, clipped
        assert len(trials[1].session.gaps) == 1
        assert len(trials[0].session.gaps) == 0
        assert trials[0].session.events.label.tolist() == ["pre/test/GMED"]

    def test_trials_unknown_label(self):
        with pytest.raises(VocabularyError):
            list(session().trials("pre/GMED"))
        assert list(session().trials("post/test/ADL")) == []

    def test_crop_clips_events(self):
        c = session().crop(0.25, 1.1)
        ev = c.events
        assert ev.onset.tolist() == pytest.approx([0.25, 0.5, 1.0])
        assert ev.duration.tolist() == pytest.approx([0.25, 0.25, 0.1])

    def test_pick_drops_empty_streams_and_their_gaps(self):
        s = session().pick(kinds=["acc"])
        assert list(s.streams) == ["imu"]
        assert s.gaps.empty
        with pytest.raises(ValidationError, match="no channel"):
            session().pick(["EMG SOL L"])

    def test_to_dataframe(self):
        s = session()
        wide = s.to_dataframe("emg")
        assert wide.shape == (4000, 2)
        long = s.to_dataframe()
        assert len(long) == 2 * 4000 + 3 * 200
        sel = long[(long.channel == "EMG ADL L")]
        np.testing.assert_array_equal(sel.value.to_numpy(), s["emg"].data[1])
        assert set(long.muscle.dropna()) == {"gluteus_medius", "adductor_longus"}

    def test_getitem_error_lists_streams(self):
        with pytest.raises(KeyError, match=r"streams are \['emg', 'imu'\]"):
            session()["force"]

    def test_replace_and_with_stream(self):
        s = session()
        assert s.replace(subject="09").subject == "09"
        assert s.with_stream(emg_stream(n_ch=3)).streams["emg"].n_channels == 3
        with pytest.raises(ValidationError, match="no field"):
            s.replace(colour="red")

    def test_quality_table(self):
        q = make_quality(
            [
                {
                    "stream": "emg",
                    "channel": "EMG GMED L",
                    "check": "flat_line",
                    "value": 1.0,
                    "threshold": 0.5,
                    "ok": False,
                    "reason": "flat",
                }
            ]
        )
        s = session().replace(quality=q)
        assert s.quality.ok.tolist() == [False]
        with pytest.raises(ValidationError, match="lacks columns"):
            make_quality([{"stream": "emg"}])

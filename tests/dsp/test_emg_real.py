"""The EMG signal core on real recordings: older-adult isometric holds and treadmill walking.

Only what physiology makes certain is asserted; the observed figures are in the
assertion messages. Holds: Silva et al. 2024 (30 older adults, 10 s isometric
holds of VL, BF, TA and LG, all four muscles recorded in every hold; 5 s for
the knee holds of sub-05 and sub-06). Walking: Santuz et al. 2019 (1 kHz, six
gait cycles with touchdown and lift-off).
"""

from __future__ import annotations

import numpy as np
import pytest

from nkt_motion import dsp
from nkt_motion.io import read_elderly_cohort, read_santuz_walking

MUSCLES = ("VL", "BF", "TA", "LG")
ANTAGONIST = {"VL": "BF", "BF": "VL", "TA": "LG", "LG": "TA"}
FS = 2000.0


@pytest.fixture(scope="module")
def holds() -> dict[tuple[str, str], np.ndarray]:
    """(subject, held muscle) -> band-passed EMG, rows in MUSCLES order (uV)."""
    out = {}
    for s in read_elderly_cohort():
        emg = s["emg"]
        assert emg.ch_names == [f"EMG {m} R" for m in MUSCLES] and emg.fs == FS
        out[s.subject, s.meta["task"].removeprefix("hold")] = dsp.bandpass(emg.data, FS)
    return out


def _rms(holds: dict[tuple[str, str], np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    return {k: np.sqrt(np.mean(x**2, axis=-1)) for k, x in holds.items()}


def _subjects(holds: dict[tuple[str, str], np.ndarray]) -> list[str]:
    return sorted({s for s, _ in holds})


def test_lg_channel_holds_no_emg(holds) -> None:  # type: ignore[no-untyped-def]
    # a finding on this sample, not physiology: the LG electrode shows only a
    # ~1.4 uV noise floor with a white-like spectrum (median frequency > 180 Hz)
    # in every hold, its own included, so no TA/LG claim is asserted below
    lg = MUSCLES.index("LG")
    rms = np.array([r[lg] for r in _rms(holds).values()])
    assert rms.max() < 3.0, rms.max()
    own = np.stack([x[lg] for (_, code), x in holds.items() if code == "LG"])
    mdf = dsp.spectral_frequencies(own, FS, window=1.0, nperseg=1000).median
    assert np.median(mdf) > 180.0


@pytest.mark.parametrize("agonist", ["VL", "BF"])
def test_agonist_rms_exceeds_antagonist(holds, agonist: str) -> None:  # type: ignore[no-untyped-def]
    rms = _rms(holds)
    ag, an = MUSCLES.index(agonist), MUSCLES.index(ANTAGONIST[agonist])
    ratio = np.array([rms[s, agonist][ag] / rms[s, agonist][an] for s in _subjects(holds)])
    assert np.isfinite(ratio).all() and (ratio > 0).all()
    assert np.mean(ratio > 1.0) >= 0.8, (np.mean(ratio > 1.0), np.median(ratio))


@pytest.mark.parametrize("agonist", ["VL", "BF"])
def test_antagonist_quieter_than_in_its_own_hold(holds, agonist: str) -> None:  # type: ignore[no-untyped-def]
    rms = _rms(holds)
    an = ANTAGONIST[agonist]
    i = MUSCLES.index(an)
    share = np.array([rms[s, agonist][i] / rms[s, an][i] for s in _subjects(holds)])
    assert np.mean(share < 1.0) >= 0.8, (np.mean(share < 1.0), np.median(share))


@pytest.mark.parametrize("agonist", MUSCLES)
def test_cocontraction_indices_bounded(holds, agonist: str) -> None:  # type: ignore[no-untyped-def]
    rms = _rms(holds)
    ag, an = MUSCLES.index(agonist), MUSCLES.index(ANTAGONIST[agonist])
    for s in _subjects(holds):
        amp = dsp.moving_rms(holds[s, agonist][[ag, an]], FS, window=0.1)
        a = amp[:1] / rms[s, agonist][ag]  # each muscle to its RMS in its own hold
        b = amp[1:] / rms[s, ANTAGONIST[agonist]][an]
        fw, winter, rud = (
            dsp.cocontraction(a, b, method=m)[0] for m in ("falconer_winter", "winter", "rudolph")
        )
        assert 0.0 <= winter <= fw + 1e-9 <= 100.0 + 1e-9, (s, winter, fw)  # common <= smaller
        assert np.isfinite(rud) and rud >= 0.0


@pytest.mark.parametrize("agonist", ["VL", "BF", "TA"])
def test_median_frequency_physiological(holds, agonist: str) -> None:  # type: ignore[no-untyped-def]
    ag = MUSCLES.index(agonist)
    x = np.stack([holds[s, agonist][ag, : round(5 * FS)] for s in _subjects(holds)])
    mdf = dsp.spectral_frequencies(x, FS, window=0.5, nperseg=500).median
    assert ((mdf > 20.0) & (mdf < 250.0)).all(), (mdf.min(), mdf.max())
    slopes = np.array(
        [dsp.median_frequency_slope(holds[s, agonist][[ag]], FS, window=1.0, nperseg=1000)[0]
         for s in _subjects(holds)]
    )  # fmt: skip
    # no fatigue sign is asserted: a submaximal 10 s hold need not lower the MDF
    # (negative slopes: VL 11/30, BF 12/30, TA 21/30 participants)
    assert np.isfinite(slopes).all() and np.abs(slopes).max() < 20.0, slopes


def _quietest_window(x: np.ndarray, fs: float, t: np.ndarray, swings) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Baseline for walking (no rest): the 200 ms window of least RMS inside mid-swing."""
    rms = dsp.moving_rms(x, fs, window=0.2)[0]
    best, centre = np.inf, 0.0
    for onset, dur in zip(swings.onset, swings.duration, strict=True):
        inside = np.flatnonzero((t >= onset + 0.1) & (t <= onset + dur - 0.1))
        k = inside[np.argmin(rms[inside])]
        if rms[k] < best:
            best, centre = rms[k], t[k] - t[0]
    return centre - 0.1, centre + 0.1


@pytest.mark.parametrize("method", ["hodges_bui", "tkeo"])
def test_gluteus_medius_fires_from_terminal_swing_to_midstance(method: str) -> None:
    # Gluteus medius is active from terminal swing (87-100 % of the cycle in
    # Perry's phases) through loading response and mid-stance, off by terminal
    # stance (Perry & Burnfield 2010, Gait Analysis, ch. 5; Winter 1991). So the
    # burst spanning each touchdown must start between 80 % of the previous
    # cycle (late swing, with room for the pre-activation a sensitive h = 3 finds)
    # and the end of loading response (+12 %), and end between +12 % and lift-off.
    s = read_santuz_walking()
    emg = s["emg"]
    x = dsp.bandpass(emg.data[[emg.channel_index("EMG GMED R")]], emg.fs)
    t = emg.t0 + np.arange(x.shape[-1]) / emg.fs
    ev = s.events
    base = _quietest_window(x, emg.fs, t, ev[ev.label == "swing"])
    bursts = dsp.detect_onsets(x, emg.fs, baseline=base, method=method)[0] + emg.t0  # type: ignore[arg-type]
    stance = ev[ev.label == "stance"]
    cycle = float(np.median(np.diff(stance.onset)))
    assert len(stance) == 6
    for touchdown, dur in zip(stance.onset, stance.duration, strict=True):
        spanning = bursts[(bursts[:, 0] <= touchdown + 0.12 * cycle) & (bursts[:, 1] > touchdown)]
        assert len(spanning) == 1, (touchdown, bursts)
        onset, offset = spanning[0] - touchdown
        assert -0.20 * cycle <= onset <= 0.12 * cycle, (touchdown, onset)
        assert 0.12 * cycle <= offset <= dur, (touchdown, offset)

"""Live IMU angles: a streaming Madgwick filter per site and the angles a protocol names.

Each site's blocks (accelerometer x/y/z in m/s^2, gyroscope x/y/z in the unit
given, deg/s by default as in a session's IMU stream) go through
:func:`~nkt_motion.dsp.orientation.madgwick` (default gain) with the quaternion
carried from block to block, so the live orientation equals the offline filter
run over the same samples. The first sample of the first block sets the
initial orientation, as offline. Sites share one sample grid that starts with
the first IMU block of any site.

When the first complete ``rest`` trial ends, the mean gyroscope over it becomes
each site's bias, as offline (:func:`~nkt_motion.model._imu_session.imu_angles`
with ``bias="rest"``); the rest is filtered again without the bias from its
first sample and the live filter continues from there. The median angles over
every complete rest are the reference posture, and a test trial's peaks are
taken against it with the signs of :func:`~nkt_motion.dsp.angles.compensation_peaks`
(larger = more compensation; the stance side is the tested side; hip hike is
the pelvic drop with the sides swapped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from nkt_motion.dsp._validate import validate_fs
from nkt_motion.dsp.angles import hip_adduction, pelvis_obliquity, trunk_lean
from nkt_motion.dsp.orientation import madgwick
from nkt_motion.errors import ValidationError
from nkt_motion.protocols import Protocol
from nkt_motion.retest._proc_emg import Gap
from nkt_motion.retest._proc_ring import Ring, SampleClock, Window
from nkt_motion.vocab import IMU_SITES

__all__ = [
    "ANGLE_NAMES",
    "ImuTracks",
    "check_site",
    "make_imu_tracks",
    "no_angles",
]

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
#: Kinematic sign of a protocol -> the angle name used live.
ANGLE_NAMES: Final[dict[str, str]] = {
    "contralateral_pelvic_drop": "pelvic_drop",
    "hip_hike": "hip_hike",
    "trunk_lean": "trunk_lean",
    "hip_adduction": "hip_adduction",
}
_GYR_SCALE: Final = {"deg/s": np.pi / 180.0, "rad/s": 1.0}
_PELVIS: Final = ("pelvis", "sacrum")


class _Track:
    """A ring of recent samples and the open trial's window."""

    ring: Ring
    window: Window | None


class _Site(_Track):
    """One IMU site: grid, ring (acc, raw gyro in rad/s, quaternion), filter state."""

    def __init__(self, site: str, fs: float, capacity: int, max_keep: int) -> None:
        self.site, self.fs, self.max_keep = site, fs, max_keep
        self.clock = SampleClock(fs, f"imu {site}")
        self.ring = Ring(10, capacity)
        self.window: Window | None = None
        self.q: FloatArray | None = None
        self.last: FloatArray | None = None
        self.bias = np.zeros(3)

    def filter(self, acc: FloatArray, gyr: FloatArray) -> FloatArray:
        """Quaternions (4, n) of the next samples, continuing from the carried state."""
        g = gyr - self.bias[:, None]
        if self.q is None or self.last is None:
            q: FloatArray = madgwick(g, acc, self.fs)
        else:
            ext_g = np.concatenate([self.last[3:, None], g], axis=1)
            ext_a = np.concatenate([self.last[:3, None], acc], axis=1)
            q = madgwick(ext_g, ext_a, self.fs, q0=self.q)[:, 1:]
        self.q, self.last = q[:, -1].copy(), np.r_[acc[:, -1], g[:, -1]]
        return q

    def refilter(self, stop: int) -> tuple[int, FloatArray] | None:
        """Take the bias from the open rest window up to ``stop``, filter the window again.

        Returns the window start and the new quaternions (4, n) from there on.
        """
        w = self.window
        if w is None:
            return None
        rows = w.kept()
        n_rest = min(stop, w.end) - w.start
        if n_rest < 2 or rows.shape[1] != w.end - w.start or not np.isfinite(rows).all():
            logger.warning(
                "imu %s: rest window has gaps, too few samples or more than max_trial_s; "
                "gyroscope bias not set",
                self.site,
            )
            return None
        self.bias = rows[3:6, :n_rest].mean(axis=1)
        self.q = self.last = None
        q = self.filter(rows[:3], rows[3:6])
        self.ring.put(w.start, np.vstack([rows[:6], q]))
        return w.start, q


def _finite_cols(f: Callable[..., FloatArray], *qs: FloatArray) -> FloatArray:
    """``f(*qs)`` on the columns where every quaternion is finite, NaN elsewhere."""
    ok = np.logical_and.reduce([np.isfinite(q).all(axis=0) for q in qs])
    out = np.full(ok.size, np.nan)
    if ok.any():
        out[ok] = f(*(q[:, ok] for q in qs))
    return out


class _Angle(_Track):
    """One live angle computed from one or two sites, with its ring and trial window."""

    def __init__(
        self, name: str, sites: tuple[str, ...], f: Callable[..., FloatArray], capacity: int
    ) -> None:
        self.name, self.sites, self.f = name, sites, f
        self.ring = Ring(1, capacity)
        self.window: Window | None = None

    def values(self, quats: Sequence[FloatArray]) -> FloatArray:
        """Return the angle (n,) in degrees from each site's quaternions (4, n)."""
        return _finite_cols(self.f, *quats)

    def update(self, sites: dict[str, _Site]) -> None:
        """Compute the angle for the samples every one of its sites now has."""
        lo, hi = self.ring.end, min(sites[s].ring.end for s in self.sites)
        if hi <= lo:
            return
        v = self.values([sites[s].ring.get(lo, hi)[6:] for s in self.sites])[None]
        self.ring.append(v)
        if self.window is not None:
            self.window.add(lo, v)


class ImuTracks:
    """Live orientation of every IMU site and the angles of the protocol's kinematic signs.

    Parameters
    ----------
    fs : float
        IMU rate in Hz.
    sites : sequence of str
        Sites that will be pushed.
    signs : sequence of str
        Kinematic signs of the protocol (keys of :data:`ANGLE_NAMES`).
    side : {"L", "R"}
        Stance (tested) side.
    gyro_unit : {"deg/s", "rad/s"}
        Unit of the gyroscope rows.
    lookback_s, max_trial_s : float
        Seconds kept in the rings and per trial.
    """

    def __init__(
        self,
        fs: float,
        sites: Sequence[str],
        signs: Sequence[str],
        side: Literal["L", "R"],
        *,
        gyro_unit: str,
        lookback_s: float,
        max_trial_s: float,
    ) -> None:
        self.fs, self.side, self.signs = fs, side, tuple(signs)
        self.scale = _GYR_SCALE[gyro_unit]
        cap, keep = round(lookback_s * fs), round(max_trial_s * fs)
        self.sites = {s: _Site(s, fs, cap, keep) for s in sites}
        self.max_keep = keep
        self.gaps: list[Gap] = []
        self.angles = self._angles(cap)
        self.baseline: dict[str, float] = {}
        self._rest: dict[str, list[FloatArray]] = {a.name: [] for a in self.angles}
        self._origin: float | None = None
        self._pending: float | None = None
        self._biased = False

    def _angles(self, cap: int) -> list[_Angle]:
        pelvis = next((s for s in _PELVIS if s in self.sites), None)
        thigh = f"thigh_{self.side}"
        wanted = {ANGLE_NAMES[s] for s in self.signs}
        out = []
        if pelvis and wanted & {"pelvic_drop", "hip_hike"}:
            out.append(_Angle("pelvis_obliquity", (pelvis,), pelvis_obliquity, cap))
        if "trunk" in self.sites and "trunk_lean" in wanted:
            out.append(_Angle("trunk_lean", ("trunk",), trunk_lean, cap))
        if pelvis and thigh in self.sites and "hip_adduction" in wanted:

            def add(qp: FloatArray, qt: FloatArray) -> FloatArray:
                return hip_adduction(qp, qt, side=self.side)

            out.append(_Angle("hip_adduction", (pelvis, thigh), add, cap))
        missing = sorted(wanted - self._measured({a.name for a in out}))
        if missing:
            logger.warning("no IMU sites for %s; sites are %s", missing, sorted(self.sites))
        return out

    @staticmethod
    def _measured(angles: set[str]) -> set[str]:
        names = {"trunk_lean", "hip_adduction"} & angles
        return names | ({"pelvic_drop", "hip_hike"} if "pelvis_obliquity" in angles else set())

    def push(self, site: str, block: FloatArray, start_s: float) -> None:
        """Filter a checked ``(6, n)`` block of one site and update the angles it feeds."""
        s = self.sites[site]
        if self._origin is None:
            self._origin = start_s
            for other in self.sites.values():
                other.clock.origin = start_s
            if self._pending is not None:
                self.open(self._pending)
        first_block = s.ring.end == 0
        skip, missing = s.clock.place(start_s, block.shape[1])
        block = block[:, skip:]
        if block.shape[1] == 0:
            return
        if missing:
            if not first_block:
                t0 = s.clock.time(s.ring.end)
                self.gaps.append(Gap(f"imu {site}", t0, missing / self.fs, False))
                logger.warning("imu %s: %d sample(s) missing at %.3f s", site, missing, t0)
            if s.window is not None:
                s.window.add_missing(s.ring.end, missing)
            s.ring.append_missing(missing)
        gyr = block[3:] * self.scale
        rows = np.vstack([block[:3], gyr, s.filter(block[:3], gyr)])
        first = s.ring.end
        s.ring.append(rows)
        if s.window is not None:
            s.window.add(first, rows)
        for a in self.angles:
            if site in a.sites:
                a.update(self.sites)

    def open(self, t_s: float) -> None:
        """Open a trial window at ``t_s`` on every site and angle."""
        if self._origin is None:
            self._pending = t_s
            return
        self._pending = None
        start = max(0, next(iter(self.sites.values())).clock.index(t_s))
        tracks: list[_Track] = [*self.sites.values(), *self.angles]
        for track in tracks:
            track.window = Window(start, track.ring.buf.shape[0], 0, self.max_keep)
            if start < track.ring.end:
                track.window.add_past(track.ring)

    def close(self, t_s: float, *, phase: str, complete: bool) -> dict[str, float]:
        """End the trial windows at ``t_s``; return peak angles (test trials) in degrees."""
        self._pending = None
        if self._origin is None:
            return (
                {n: float("nan") for n in (ANGLE_NAMES[s] for s in self.signs)}
                if phase in ("pre", "post")
                else {}
            )
        stop = next(iter(self.sites.values())).clock.index(t_s)
        if phase == "rest" and complete and not self._biased:
            self._refilter(stop)
        values: dict[str, FloatArray] = {}
        tracks: list[_Track] = [*self.sites.values(), *self.angles]
        for track in tracks:
            w, track.window = track.window, None
            if w is not None:
                w.close(stop, track.ring)
                if isinstance(track, _Angle):
                    values[track.name] = w.kept()[0]
        if phase == "rest" and complete:
            for name, v in values.items():
                self._rest[name].append(v[np.isfinite(v)])
                pooled = np.concatenate(self._rest[name])
                self.baseline[name] = float(np.median(pooled)) if pooled.size else 0.0
        if phase not in ("pre", "post"):
            return {}
        return {n: self._peak(n, values) for n in (ANGLE_NAMES[s] for s in self.signs)}

    def _refilter(self, stop: int) -> None:
        quats: dict[str, tuple[int, FloatArray]] = {}
        for site in self.sites.values():
            done = site.refilter(stop)
            if done is not None:
                quats[site.site] = done
        self._biased = True
        for a in self.angles:
            if a.window is None or not all(s in quats for s in a.sites):
                continue
            lo = max(quats[s][0] for s in a.sites)
            hi = min(quats[s][0] + quats[s][1].shape[1] for s in a.sites)
            if hi > lo:
                v = a.values(
                    [quats[s][1][:, lo - quats[s][0] : hi - quats[s][0]] for s in a.sites]
                )
                a.ring.put(lo, v[None])
                a.window.overwrite(lo, v[None])

    def _signed(self, name: str) -> tuple[str, float]:
        """Return the angle a sign is read from and the factor making compensation positive."""
        stance = 1.0 if self.side == "L" else -1.0
        return {
            "pelvic_drop": ("pelvis_obliquity", stance),
            "hip_hike": ("pelvis_obliquity", -stance),
            "trunk_lean": ("trunk_lean", stance),
            "hip_adduction": ("hip_adduction", 1.0),
        }[name]

    def _peak(self, name: str, values: dict[str, FloatArray]) -> float:
        source, sign = self._signed(name)
        v = values.get(source)
        if v is None or not np.isfinite(v).any():
            return float("nan")
        return float(np.nanmax(sign * (v - self.baseline.get(source, 0.0))))

    def current(self) -> dict[str, float]:
        """Latest value of every sign's angle against the rest posture, degrees (NaN if none)."""
        latest = {a.name: float(a.ring.last()[0]) for a in self.angles}
        out = {}
        for name in (ANGLE_NAMES[s] for s in self.signs):
            source, sign = self._signed(name)
            v = latest.get(source, float("nan"))
            out[name] = sign * (v - self.baseline.get(source, 0.0))
        return out


def check_site(site: str, sites: dict[str, object]) -> None:
    """Raise a ValidationError when ``site`` is not one of the configured sites."""
    if site not in sites:
        raise ValidationError(
            f"site must be one of the imu_sites given to the processor {sorted(sites)}, "
            f"got {site!r}",
            parameter="site",
        )


def make_imu_tracks(
    fs: float | None,
    sites: Sequence[str],
    signs: Sequence[str],
    side: Literal["L", "R"],
    *,
    gyro_unit: str,
    lookback_s: float,
    max_trial_s: float,
) -> ImuTracks | None:
    """Check the IMU options of a processor; return its tracks (None without sites)."""
    sites = tuple(sites)
    bad = [s for s in sites if s not in IMU_SITES]
    if bad or len(set(sites)) != len(sites):
        raise ValidationError(
            f"imu_sites must be distinct sites among {list(IMU_SITES)}, got {list(sites)}",
            parameter="imu_sites",
        )
    if gyro_unit not in _GYR_SCALE:
        raise ValidationError(
            f"gyro_unit must be 'deg/s' or 'rad/s', got {gyro_unit!r}", parameter="gyro_unit"
        )
    if not sites:
        return None
    if fs is None:
        raise ValidationError("imu_fs is required with imu_sites", parameter="imu_fs")
    return ImuTracks(
        validate_fs(fs),
        sites,
        signs,
        side,
        gyro_unit=gyro_unit,
        lookback_s=lookback_s,
        max_trial_s=max_trial_s,
    )


def no_angles(protocol: Protocol, phase: str) -> dict[str, float]:
    """NaN for every kinematic sign of a test trial without IMU (empty for other phases)."""
    if phase not in ("pre", "post"):
        return {}
    return {ANGLE_NAMES[s.sign]: float("nan") for s in protocol.kinematic_signs}

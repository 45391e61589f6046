"""Ready scenarios for the standing hip-flexion test of gluteus medius vs adductor longus.

The task follows Morrissey et al. (Manual Therapy 2012;17:145): the subject stands
on the tested side and flexes the other hip; the GMED:ADL activation ratio was
lower with chronic adductor groin strain, by 20-40 % depending on the phase,
mostly from lower gluteus medius activation. Kinematic magnitudes follow the
single-leg squat figures of Nakagawa et al. (JOSPT 2012;42:491): contralateral
pelvic drop about 7-10 deg, ipsilateral trunk lean 7-9 deg, hip adduction
11-15 deg. The numbers below are plausible illustrations, not norms.
"""

from __future__ import annotations

from nkt_motion.simulate import _checks as chk
from nkt_motion.simulate.scenario import Scenario
from nkt_motion.simulate.spec import Activation, MuscleSpec, Posture
from nkt_motion.vocab import SIDES, Side

__all__ = ["bilateral_hip_flexion", "gmed_adl_hip_flexion", "healthy_hip_flexion"]

#: Electrode gains (uV RMS at the reference contraction); deliberately unequal.
_GAINS = {"GMED": 80.0, "ADL": 150.0, "TFL": 60.0}


def _scenario(
    *,
    side: Side,
    n_trials: int,
    seed: int,
    acts: dict[str, tuple[Activation, Activation]],
    pre: Posture,
    post: Posture,
) -> Scenario:
    chk.choice(side, name="side", allowed=SIDES)
    chk.integer(n_trials, name="n_trials", low=1, high=50)
    muscles = tuple(
        MuscleSpec(code, _GAINS[code], pre=a_pre, post=a_post)
        for code, (a_pre, a_post) in acts.items()
    )
    return Scenario(
        side=side,
        tested="GMED",
        partners=("ADL", "TFL"),
        muscles=muscles,
        pre=pre,
        post=post,
        n_pre=n_trials,
        n_post=n_trials,
        seed=seed,
        protocol="hip_flexion_gmed_adl",
    )


def gmed_adl_hip_flexion(*, side: Side = "L", n_trials: int = 5, seed: int = 0) -> Scenario:
    """Standing hip flexion, GMED compensated by ADL before the correction, less after.

    Pre: GMED level 0.35 with onset 300 ms, ADL 0.70 firing 80 ms earlier (220
    ms), TFL 0.50 at 250 ms; GMED:ADL ratio 0.5; pelvic drop 8 deg, trunk lean
    6 deg, hip adduction 10 deg. Post: GMED 0.55 at 220 ms, ADL 0.45 at 260 ms,
    TFL 0.35 at 250 ms; ratio about 1.22; pelvic drop 3 deg, lean 2 deg,
    adduction 5 deg. The moving hip flexes to 70 deg in every trial.

    Parameters
    ----------
    side : {"L", "R"}
        Stance (tested) side.
    n_trials : int
        Test trials before and after the correction, 1-50.
    seed : int
        Seed of every random draw.

    Returns
    -------
    Scenario
        Muscles GMED (tested), ADL and TFL (partners), default signal models.

    Examples
    --------
    >>> sc = gmed_adl_hip_flexion(side="R", n_trials=4)
    >>> sc.tested, sc.partners, sc.n_pre, sc.muscle("GMED").pre.level
    ('GMED', ('ADL', 'TFL'), 4, 0.35)
    """
    return _scenario(
        side=side,
        n_trials=n_trials,
        seed=seed,
        acts={
            "GMED": (Activation(0.35, onset_s=0.30), Activation(0.55, onset_s=0.22)),
            "ADL": (Activation(0.70, onset_s=0.22), Activation(0.45, onset_s=0.26)),
            "TFL": (Activation(0.50, onset_s=0.25), Activation(0.35, onset_s=0.25)),
        },
        pre=Posture(8.0, 6.0, 10.0, 70.0),
        post=Posture(3.0, 2.0, 5.0, 70.0),
    )


def healthy_hip_flexion(*, side: Side = "L", n_trials: int = 5, seed: int = 0) -> Scenario:
    """Standing hip flexion without compensation: pre and post are the same.

    GMED level 0.60 with onset 200 ms (fires first), ADL 0.40 at 260 ms, TFL 0.35
    at 240 ms (GMED:ADL ratio 1.5); pelvic drop 2 deg, trunk lean 1.5 deg, hip
    adduction 4 deg, hip flexion 70 deg.

    Parameters
    ----------
    side : {"L", "R"}
        Stance (tested) side.
    n_trials : int
        Test trials before and after the correction, 1-50.
    seed : int
        Seed of every random draw.

    Returns
    -------
    Scenario
        Muscles GMED (tested), ADL and TFL (partners), default signal models.

    Examples
    --------
    >>> sc = healthy_hip_flexion()
    >>> sc.pre == sc.post, sc.muscle("GMED").pre == sc.muscle("GMED").post
    (True, True)
    """
    gmed, adl, tfl = Activation(0.6, 0.20), Activation(0.4, 0.26), Activation(0.35, 0.24)
    posture = Posture(2.0, 1.5, 4.0, 70.0)
    return _scenario(
        side=side,
        n_trials=n_trials,
        seed=seed,
        acts={"GMED": (gmed, gmed), "ADL": (adl, adl), "TFL": (tfl, tfl)},
        pre=posture,
        post=posture,
    )


def bilateral_hip_flexion(
    *, compensating: Side = "L", n_trials: int = 5, seed: int = 0
) -> tuple[Scenario, Scenario]:
    """Standing hip flexion on both sides: one side compensates, the other is healthy.

    The compensating side plays :func:`gmed_adl_hip_flexion` (GMED:ADL 0.5
    before the correction, about 1.2 after), the other side
    :func:`healthy_hip_flexion` (1.5 throughout). Morrissey et al. (2012) found
    no side-to-side difference within their patients, so a one-sided deficit is
    an illustration of what the side-to-side comparison detects, not a norm.

    Parameters
    ----------
    compensating : {"L", "R"}
        The side with compensation.
    n_trials : int
        Test trials per phase and side, 1-50.
    seed : int
        Seed of the compensating side; the healthy side uses ``seed + 1``.

    Returns
    -------
    (Scenario, Scenario)
        Left side first, then right, for
        :func:`~nkt_motion.simulate.simulate_bilateral`.

    Examples
    --------
    >>> left, right = bilateral_hip_flexion(compensating="R", n_trials=3)
    >>> left.side, left.muscle("GMED").pre.level, right.side, right.muscle("GMED").pre.level
    ('L', 0.6, 'R', 0.35)
    """
    chk.choice(compensating, name="compensating", allowed=SIDES)
    healthy: Side = "R" if compensating == "L" else "L"
    sick = gmed_adl_hip_flexion(side=compensating, n_trials=n_trials, seed=seed)
    well = healthy_hip_flexion(side=healthy, n_trials=n_trials, seed=seed + 1)
    return (sick, well) if compensating == "L" else (well, sick)

"""``nkt-motion simulate``: write a simulated NKT test session with its known truth.

The session is written as BIDS-EMG; the truth tables (activation levels,
onsets, ratios, kinematic angles, injected faults) go to
``derivatives/nkt-motion/sub-<s>/ses-<x>/`` beside it, so a new user can check
every number the analysis reports against what was put in.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from nkt_motion.io import write_bids
from nkt_motion.simulate import SimulatedSession, gmed_adl_hip_flexion, healthy_hip_flexion
from nkt_motion.simulate import simulate as run_simulation

__all__ = ["register", "run", "simulate_to_bids"]

_PRESETS = {
    "compensating": gmed_adl_hip_flexion,
    "healthy": healthy_hip_flexion,
}


def register(subparsers: Any) -> None:
    """Add the ``simulate`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The parent parser's subparsers.

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers())
    >>> p.parse_args(["simulate", "--out", "x"]).preset
    'compensating'
    """
    parser = subparsers.add_parser(
        "simulate",
        help="write a simulated standing hip-flexion test session (BIDS-EMG) with its truth",
        description="Simulate a standing hip-flexion test (gluteus medius vs adductor longus "
        "and TFL) before and after a correction, with surface EMG and IMUs, and write it "
        "as BIDS-EMG. The known truth is written under derivatives/nkt-motion/.",
    )
    parser.add_argument("--out", required=True, type=Path, help="BIDS dataset root to write")
    parser.add_argument(
        "--preset",
        choices=sorted(_PRESETS),
        default="compensating",
        help="compensating: GMED inhibited and ADL compensating before, less after; "
        "healthy: no compensation (default: %(default)s)",
    )
    parser.add_argument("--side", choices=["L", "R"], default="L", help="tested side")
    parser.add_argument("--trials", type=int, default=5, help="test trials per phase")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--subject", default="01", help="pseudonymous subject id")
    parser.add_argument("--mains", type=int, choices=[50, 60], help="add mains interference")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing session")
    parser.set_defaults(func=run)


def simulate_to_bids(
    root: Path,
    *,
    preset: str = "compensating",
    side: str = "L",
    trials: int = 5,
    seed: int = 0,
    subject: str = "01",
    mains: int | None = None,
    overwrite: bool = False,
) -> tuple[SimulatedSession, Path]:
    """Simulate a session and write it, with its truth tables, under ``root``.

    Parameters
    ----------
    root : Path
        BIDS dataset root.
    preset : {"compensating", "healthy"}
        Which scenario.
    side : {"L", "R"}
        Tested side.
    trials : int
        Test trials per phase (pre and post).
    seed : int
        Random seed.
    subject : str
        Pseudonymous subject id.
    mains : {50, 60} or None
        Mains interference frequency in Hz, or none.
    overwrite : bool
        Replace an existing session folder.

    Returns
    -------
    SimulatedSession
        The session and its truth.
    Path
        The session folder written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> sim, folder = simulate_to_bids(root, trials=2, seed=1)
    >>> folder.name
    'ses-01'
    """
    scenario = _PRESETS[preset](side=side, n_trials=trials, seed=seed)  # type: ignore[arg-type]
    if mains is not None:
        emg = dataclasses.replace(scenario.emg, mains_uv=20.0, mains_harmonics=(0.3,))
        scenario = scenario.replace(power_line_hz=mains, emg=emg)
    sim = run_simulation(scenario)
    session = sim.session.replace(subject=subject)
    folder = write_bids(session, root, overwrite=overwrite)
    truth_dir = root / "derivatives" / "nkt-motion" / f"sub-{subject}" / "ses-01"
    truth_dir.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{subject}_ses-01_desc-truth"
    for name in ("activations", "ratios", "kinematics", "faults"):
        getattr(sim.truth, name).to_csv(truth_dir / f"{stem}_{name}.tsv", sep="\t", index=False)
    return sim, folder


def run(args: argparse.Namespace) -> int:
    """Run ``nkt-motion simulate``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        Exit status 0.

    Examples
    --------
    >>> from nkt_motion.cli import main
    >>> main(["simulate", "--help"])  # doctest: +SKIP
    """
    sim, folder = simulate_to_bids(
        args.out,
        preset=args.preset,
        side=args.side,
        trials=args.trials,
        seed=args.seed,
        subject=args.subject,
        mains=args.mains,
        overwrite=args.overwrite,
    )
    ratios = sim.truth.ratios
    print(f"simulated {sim.session!r}")
    print(f"wrote BIDS-EMG session: {folder}")
    print(f"truth tables: {args.out / 'derivatives' / 'nkt-motion'}")
    for (phase, partner), grp in ratios.groupby(["phase", "partner"], sort=False):
        print(
            f"  true {phase} ratio {sim.scenario.tested}:{partner} = "
            f"{grp['ratio'].mean():.2f} over {len(grp)} trials"
        )
    return 0

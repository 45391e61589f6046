"""Regenerate the synthetic sample recordings in ``data/samples/synthetic/``.

Run from the repository root::

    .venv/bin/python data/samples/make_samples.py [--out data/samples/synthetic]

It writes, from the seeded ground-truth simulator (``nkt_motion.simulate``):

``bids/``
    A BIDS-EMG dataset with two subjects doing the standing hip-flexion test
    (gluteus medius vs adductor longus and TFL) before and after a correction:
    ``sub-01`` compensates before the correction and much less after (EMG and
    IMUs on pelvis, trunk and thighs at 50 Hz); ``sub-02`` does not compensate
    (EMG only). The truth tables are under ``bids/derivatives/nkt-motion/``.
``csv/sub-03_hipflexion.csv.gz``
    The same task for a third (compensating, right side) subject as a tidy CSV
    (EMG only, ``time`` in seconds) with its ``_events.csv`` beside it.

Everything is seeded, so running the script again writes the same samples;
``tests/test_samples.py`` checks that the committed files equal a fresh run.
The sessions are kept short (three trials per phase, short rests) so that all
samples stay a few MB.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from nkt_motion import write_bids
from nkt_motion.simulate import Scenario, gmed_adl_hip_flexion, healthy_hip_flexion, simulate

HERE = Path(__file__).resolve().parent


def _short(sc: Scenario) -> Scenario:
    return sc.replace(rest_s=4.0, gap_s=1.5, correction_s=5.0, ref_s=3.0, fs_imu=50.0)


def scenarios() -> dict[str, Scenario]:
    """The scenario of each synthetic sample subject."""
    return {
        "01": _short(gmed_adl_hip_flexion(side="L", n_trials=3, seed=101)),
        "02": _short(healthy_hip_flexion(side="L", n_trials=3, seed=102)),
        "03": _short(gmed_adl_hip_flexion(side="R", n_trials=3, seed=103)),
    }


def write_truth(sim_truth: object, folder: Path, stem: str) -> None:
    """Write the truth tables of one simulated session as TSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("activations", "ratios", "kinematics", "faults"):
        table = getattr(sim_truth, name)
        table.to_csv(folder / f"{stem}_desc-truth_{name}.tsv", sep="\t", index=False)


def write_csv_sample(subject: str, sc: Scenario, folder: Path) -> Path:
    """Write one simulated session (EMG only) as a tidy CSV with its events."""
    sim = simulate(sc)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sub-{subject}_hipflexion.csv.gz"
    emg = sim.session["emg"].to_dataframe()
    emg.index = emg.index.round(6)
    emg.round(3).to_csv(path, index_label="time")
    events = sim.session.events[["onset", "duration", "label"]]
    stem = path.name.removesuffix(".csv.gz")
    events.to_csv(path.with_name(stem + "_events.csv"), index=False)
    meta = {"subject": subject, "session": "01", "meta": {"simulated": True, "seed": sc.seed}}
    path.with_name(stem + ".json").write_text(json.dumps(meta, indent=1) + "\n")
    write_truth(sim.truth, folder, f"sub-{subject}")
    return path


def main(out: Path) -> None:
    """Write every synthetic sample under ``out`` (replacing what is there)."""
    if out.exists():
        shutil.rmtree(out)
    bids = out / "bids"
    for subject in ("01", "02"):
        sim = simulate(scenarios()[subject])
        session = sim.session.replace(subject=subject)
        if subject == "02":
            session = session.pick(kinds=["emg"])
        write_bids(session, bids)
        truth = bids / "derivatives" / "nkt-motion" / f"sub-{subject}" / "ses-01"
        write_truth(sim.truth, truth, f"sub-{subject}_ses-01")
    write_csv_sample("03", scenarios()["03"], out / "csv")
    for path in sorted(out.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size / 1e3:9.1f} kB  {path.relative_to(out)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "synthetic")
    main(parser.parse_args().out)

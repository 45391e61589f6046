import json

import numpy as np
import pandas as pd
import pytest

from nkt_motion.assess import card_path
from nkt_motion.cli import main


def trial_table(n_subjects=12, n_trials=8, seed=0):
    """Inhibited trials: lower log(GMED/ADL), later GMED onset; per-subject offsets."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_subjects * n_trials // 2)
    offset = np.repeat(rng.normal(0, 0.3, n_subjects), n_trials)
    return pd.DataFrame(
        {
            "subject": np.repeat([f"sub-{i:02d}" for i in range(n_subjects)], n_trials),
            "session": "01",
            "protocol": "hip_flexion_gmed_adl",
            "side": "R",
            "phase": "pre",
            "trial": np.tile(np.arange(n_trials), n_subjects),
            "log_ratio_GMED_ADL": offset - 0.6 * y + rng.normal(0, 0.25, y.size),
            "onset_diff_ms_GMED_ADL": 25 * y + rng.normal(0, 15, y.size),
            "notes": "ok",
            "mmt": np.where(y == 1, "inhibited", "facilitated"),
        }
    )


@pytest.fixture
def trained(tmp_path, capsys):
    table = tmp_path / "trials.csv"
    trial_table().to_csv(table, index=False)
    model = tmp_path / "gmed.skops"
    cv_json = tmp_path / "cv.json"
    argv = ["train", str(table), "--label", "mmt", "--model", str(model), "--json", str(cv_json)]
    argv += ["--data-description", "simulated trials for a test", "--n-splits", "4"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    return table, model, cv_json, out


def test_train_prints_metrics_and_writes_model_and_card(trained):
    _, model, cv_json, out = trained
    assert out.startswith("WARNING: TRAINED ON SIMULATED DATA")
    assert "4-fold subject-grouped CV: 96 trials, 12 subjects" in out
    assert "positive class: 'inhibited'" in out
    assert model.is_file()
    card = json.loads(card_path(model).read_text())
    assert card["simulated"] is True
    assert card["features"] == ["log_ratio_GMED_ADL", "onset_diff_ms_GMED_ADL"]
    assert card["cv"] == json.loads(cv_json.read_text())
    assert card["cv"]["overall"]["balanced_accuracy"] > 0.7


def test_evaluate_reproduces_training_cv(trained, tmp_path, capsys):
    table, model, cv_json, train_out = trained
    again = tmp_path / "again.json"
    assert main(["evaluate", str(model), str(table), "--label", "mmt", "--json", str(again)]) == 0
    out = capsys.readouterr().out
    assert "reproduces the cross-validation in the model card: yes" in out
    assert json.loads(again.read_text()) == json.loads(cv_json.read_text())
    # the printed summary is the same text
    summary = train_out.split("\n", 1)[1].rsplit("model written", 1)[0].strip()
    assert summary in out


def test_evaluate_on_new_subjects_reports_held_out(trained, tmp_path, capsys):
    _, model, _, _ = trained
    other = tmp_path / "other.csv"
    trial_table(n_subjects=6, seed=9).to_csv(other, index=False)
    assert main(["evaluate", str(model), str(other), "--label", "mmt"]) == 0
    out = capsys.readouterr().out
    assert "held-out evaluation: 48 trials, 6 subjects" in out
    assert "reproduces" not in out


def test_cli_errors_are_clear(trained, tmp_path, capsys):
    table, model, _, _ = trained
    assert main(["train", str(table), "--label", "nope", "--model", str(tmp_path / "x")]) == 2
    assert "label column 'nope' not in the table" in capsys.readouterr().err
    pq = tmp_path / "t.parquet"
    pq.write_bytes(b"")
    code = main(["evaluate", str(model), str(pq), "--label", "mmt"])
    err = capsys.readouterr().err
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert code == 2 and "needs pyarrow" in err
    else:
        assert code == 2 and "not a readable Parquet table" in err and "t.parquet" in err
    model.write_bytes(model.read_bytes() + b"\0")
    assert main(["evaluate", str(model), str(table)]) == 2
    assert "does not match the SHA-256" in capsys.readouterr().err

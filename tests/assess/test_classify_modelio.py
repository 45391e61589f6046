import json
from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from nkt_motion.assess import (
    SIMULATED_WARNING,
    card_path,
    evaluate_model,
    load_model,
    read_trial_table,
    save_model,
    train_model,
)
from nkt_motion.assess.modelio import _sha256
from nkt_motion.errors import FileFormatError


class Payload:
    """A type no allow-list knows: loading it must be refused."""


def small_table(n_subjects=10, n_trials=8, seed=0):
    rng = np.random.default_rng(seed)
    subjects = np.repeat([f"P{i}" for i in range(n_subjects)], n_trials)
    y = np.tile([0, 1], n_subjects * n_trials // 2)
    offset = np.repeat(rng.normal(0, 0.3, n_subjects), n_trials)
    ratio = offset - 0.6 * y + rng.normal(0, 0.25, y.size)
    ratio[::7] = np.nan
    return pd.DataFrame(
        {
            "subject": subjects,
            "trial": np.tile(np.arange(n_trials), n_subjects),
            "log_ratio_GMED_ADL": ratio,
            "onset_diff_ms_GMED_ADL": 25 * y + rng.normal(0, 15, y.size),
            "mmt": np.where(y == 1, "inhibited", "facilitated"),
        }
    )


@pytest.fixture(scope="module", params=["logistic", "boosting"])
def trained(request):
    return train_model(
        small_table(), label="mmt", kind=request.param, data_description="SIMULATED test trials"
    )


def test_card_describes_model_and_data(trained):
    _clf, card, report = trained
    assert card.simulated and card.warning == SIMULATED_WARNING
    assert card.features == ["log_ratio_GMED_ADL", "onset_diff_ms_GMED_ADL"]
    assert card.classes == ["facilitated", "inhibited"]
    assert "'inhibited'" in card.label_meaning
    assert (card.n_subjects, card.n_trials) == (10, 80)
    assert card.cv == report.to_dict()
    assert card.versions["scikit-learn"]
    assert "never a diagnosis" in card.intended_use
    assert next(iter(json.loads(card.to_json()))) == "warning"  # prominent: first key


def test_real_data_card_has_no_warning():
    _, card, _ = train_model(small_table(), label="mmt", data_description="clinic 2024 cohort")
    assert not card.simulated and card.warning == ""


def test_round_trip_gives_identical_predictions(trained, tmp_path):
    clf, card, _ = trained
    path = tmp_path / "model.skops"
    written = save_model(path, clf, card)
    assert written == card_path(path) == tmp_path / "model.card.json"
    clf2, card2 = load_model(path)
    X = small_table(seed=1)[card.features]
    np.testing.assert_array_equal(clf2.predict_proba(X), clf.predict_proba(X))
    assert card2.model_sha256 == _sha256(path)
    assert card2.cv == card.cv


def test_tampered_bytes_are_refused(trained, tmp_path):
    clf, card, _ = trained
    path = tmp_path / "model.skops"
    save_model(path, clf, card)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="does not match the SHA-256"):
        load_model(path)


def test_untrusted_types_are_refused_by_name(trained, tmp_path):
    # an attacker replaces the model and rewrites the card's hash: the type check holds
    clf, card, _ = trained
    path = tmp_path / "model.skops"
    save_model(path, clf, card)
    sio.dump({"model": clf, "extra": Payload(), "od": OrderedDict()}, path)
    cp = card_path(path)
    doc = json.loads(cp.read_text())
    doc["model_sha256"] = _sha256(path)
    cp.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match="untrusted types") as info:
        load_model(path)
    assert "Payload" in str(info.value)


def test_not_a_model_file_and_missing_card(tmp_path):
    path = tmp_path / "m.skops"
    path.write_bytes(b"not a zip file")
    with pytest.raises(FileFormatError, match="no model card"):
        load_model(path)
    card_path(path).write_text("{")
    with pytest.raises(FileFormatError, match="not JSON"):
        load_model(path)
    with pytest.raises(FileFormatError, match="model file not found"):
        load_model(tmp_path / "absent.skops")


def test_evaluate_reproduces_cv_and_scores_held_out(trained):
    clf, card, report = trained
    again = evaluate_model(clf, card, small_table())
    assert again.to_dict() == report.to_dict()
    held = evaluate_model(clf, card, small_table(seed=7))
    assert held.held_out and held.n_splits == 0
    assert held.overall.balanced_accuracy > 0.6


def test_read_trial_table_csv_and_parquet(tmp_path):
    t = small_table()
    t.to_csv(tmp_path / "t.csv", index=False)
    back = read_trial_table(tmp_path / "t.csv")
    assert back["subject"].tolist() == t["subject"].tolist()
    pq = tmp_path / "t.parquet"
    pq.write_bytes(b"")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(FileFormatError, match="needs pyarrow"):
            read_trial_table(pq)
    xlsx = tmp_path / "t.xlsx"
    xlsx.write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"\.csv, \.csv\.gz or \.parquet"):
        read_trial_table(xlsx)
    with pytest.raises(FileFormatError, match="not found"):
        read_trial_table(tmp_path / "absent.csv")

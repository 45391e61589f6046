import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from nkt_motion.assess import (
    CompensationClassifier,
    CVReport,
    ReliabilityDisplay,
    calibration_table,
    cross_validate,
    group_splits,
    prepare_table,
    score_fold,
)
from nkt_motion.errors import ValidationError

matplotlib.use("Agg")


def synthetic_table(n_subjects=20, n_trials=10, *, effect=1.0, seed=0):
    """Trials alternate facilitated/inhibited; inhibition lowers log(GMED/ADL) by
    0.5*effect and delays GMED onset by 30*effect ms; each subject has its own offsets."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        off_ratio, off_onset = rng.normal(0, 0.3), rng.normal(0, 15)
        for t in range(n_trials):
            inhibited = t % 2
            rows.append(
                {
                    "subject": f"S{s:02d}",
                    "session": "1",
                    "protocol": "gmed_standing_hip_flexion",
                    "side": "L",
                    "phase": "pre",
                    "trial": t,
                    "log_ratio_GMED_ADL": off_ratio
                    - 0.5 * effect * inhibited
                    + rng.normal(0, 0.25),
                    "onset_diff_ms_GMED_ADL": off_onset
                    + 30 * effect * inhibited
                    + rng.normal(0, 15),
                    "pelvic_drop_deg": rng.normal(6, 2) if rng.random() > 0.1 else np.nan,
                    "label": "inhibited" if inhibited else "facilitated",
                }
            )
    return pd.DataFrame(rows)


def fingerprint_table(n_subjects=40, n_trials=5, n_fp=8, seed=0):
    """Features identify the subject (a per-subject fingerprint) but carry no label
    information; the label is constant per subject (e.g. injured vs control)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat([0, 1], n_subjects // 2))
    fp = rng.normal(size=(n_subjects, n_fp))
    X = np.repeat(fp, n_trials, axis=0) + rng.normal(0, 0.1, size=(n_subjects * n_trials, n_fp))
    table = pd.DataFrame(X, columns=[f"fp{i}" for i in range(n_fp)])
    table["subject"] = np.repeat([f"S{i:02d}" for i in range(n_subjects)], n_trials)
    table["label"] = np.repeat(labels, n_trials)
    return table


@pytest.fixture(scope="module")
def table():
    return synthetic_table()


@pytest.fixture(scope="module")
def data(table):
    return prepare_table(table)


@pytest.fixture(scope="module")
def report(data):
    return cross_validate(data, CompensationClassifier(), n_splits=5, random_state=0)


# --- preparing the table -------------------------------------------------------------


def test_prepare_maps_labels_and_selects_numeric_features(data):
    assert data.classes == ("facilitated", "inhibited")
    assert set(np.unique(data.y)) == {0, 1}
    assert data.features == ("log_ratio_GMED_ADL", "onset_diff_ms_GMED_ADL", "pelvic_drop_deg")
    assert data.n_subjects == 20
    assert data.X["pelvic_drop_deg"].isna().any()  # NaN kept for the imputer


@pytest.mark.parametrize(
    ("values", "classes", "y"),
    [
        ([True, False, True], ("False", "True"), [1, 0, 1]),
        ([1, 0, 0], ("0", "1"), [1, 0, 0]),
        ([1.0, 0.0, 1.0], ("0", "1"), [1, 0, 1]),
        (["facilitated", "inhibited", "inhibited"], ("facilitated", "inhibited"), [0, 1, 1]),
    ],
)
def test_label_mapping_is_explicit(values, classes, y):
    t = pd.DataFrame({"subject": ["a", "b", "c"], "f": [1.0, 2.0, 3.0], "label": values})
    d = prepare_table(t)
    assert d.classes == classes
    assert d.y.tolist() == y


def test_other_string_labels_need_positive():
    t = pd.DataFrame({"subject": ["a", "b"], "f": [1.0, 2.0], "label": ["case", "control"]})
    with pytest.raises(ValidationError, match="positive"):
        prepare_table(t)
    assert prepare_table(t, positive="case").classes == ("control", "case")


def test_explicit_features_and_non_numeric(table):
    d = prepare_table(table, features=["log_ratio_GMED_ADL"])
    assert d.features == ("log_ratio_GMED_ADL",)
    bad = table.assign(notes="tired")
    with pytest.raises(ValidationError, match="'notes' is not numeric"):
        prepare_table(bad, features=["log_ratio_GMED_ADL", "notes"])
    # automatic selection skips the text column
    assert "notes" not in prepare_table(bad).features
    with pytest.raises(ValidationError, match="'missing_col' not in the table"):
        prepare_table(table, features=["missing_col"])
    with pytest.raises(ValidationError, match="'subject' is an id"):
        prepare_table(table, features=["subject"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.drop(columns="label"), "label column 'label' not in the table"),
        (lambda t: t.assign(label="inhibited"), "one class only"),
        (lambda t: t.iloc[:0], "empty"),
        (lambda t: t.drop(columns="subject"), "'subject'"),
        (lambda t: t.assign(label=t["label"].where(t.index > 0)), "missing value"),
        (lambda t: t.assign(pelvic_drop_deg=np.inf), "infinite"),
    ],
)
def test_bad_tables_are_refused_with_clear_errors(table, change, match):
    with pytest.raises(ValidationError, match=match):
        prepare_table(change(table))


def test_one_subject_is_refused(table):
    d = prepare_table(table[table["subject"] == "S00"])
    with pytest.raises(ValidationError, match="at least 2 subjects, got 1"):
        cross_validate(d)


# --- grouped splits ----------------------------------------------------------------------


def test_grouped_splits_never_share_subjects(data):
    splits = group_splits(data.y, data.subjects, n_splits=5, random_state=3)
    assert len(splits) == 5
    seen = np.zeros(len(data.y), dtype=int)
    for train, test in splits:
        assert not set(data.subjects[train]) & set(data.subjects[test])
        assert set(data.y[train]) == {0, 1}
        seen[test] += 1
    assert (seen == 1).all()  # every trial tested exactly once


def test_n_splits_adapts_to_subjects():
    y = np.tile([0, 1], 6)
    groups = np.repeat(["a", "b", "c"], 4)
    assert len(group_splits(y, groups, n_splits=10)) == 3


def test_subject_labels_that_cannot_fill_training_folds_are_refused():
    # two subjects, one per class: every training fold lacks a class
    with pytest.raises(ValidationError, match="no training trial of class"):
        group_splits([0, 0, 1, 1], ["a", "a", "b", "b"], n_splits=2)


def test_cv_report_folds_are_subject_disjoint(report):
    subjects = [set(f.test_subjects) for f in report.folds]
    assert sum(len(s) for s in subjects) == 20
    assert set().union(*subjects) == {f"S{i:02d}" for i in range(20)}


# --- performance, calibration, leakage --------------------------------------------------


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_known_effect_is_found(data, kind):
    r = cross_validate(data, CompensationClassifier(kind), n_splits=5)
    assert r.overall.balanced_accuracy > 0.7
    assert r.overall.roc_auc > 0.8


def test_no_effect_gives_chance(table):
    d = prepare_table(synthetic_table(effect=0.0, seed=5))
    r = cross_validate(d, CompensationClassifier())
    assert abs(r.overall.balanced_accuracy - 0.5) < 0.15


def test_calibrated_probabilities_beat_constant_predictor(data, report):
    clf = CompensationClassifier().fit(data.X, data.y, groups=data.subjects)
    proba = clf.predict_proba(data.X)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert report.overall.brier < report.brier_reference - 0.05
    assert report.brier_reference == pytest.approx(0.25)
    # the calibration table covers every trial and observed rates rise with predictions
    assert sum(b.n for b in report.calibration) == 200
    filled = [b for b in report.calibration if b.n >= 10]
    observed = [b.observed_rate for b in filled]
    assert observed == sorted(observed)


def test_calibration_is_grouped_when_groups_are_given(data):
    clf = CompensationClassifier(calibration_splits=4).fit(data.X, data.y, groups=data.subjects)
    cv = clf.calibrated_.cv
    assert len(cv) == 4
    for train, test in cv:
        assert not set(data.subjects[train]) & set(data.subjects[test])


def test_leakage_subject_fingerprints_only_help_ungrouped_cv():
    d = prepare_table(fingerprint_table())
    est = CompensationClassifier("boosting", n_trees=50)
    grouped = cross_validate(d, est, n_splits=5).overall.balanced_accuracy
    oof = np.zeros(len(d.y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(d.X, d.y):
        model = CompensationClassifier("boosting", n_trees=50).fit(d.X.iloc[train], d.y[train])
        oof[test] = model.predict_proba(d.X.iloc[test])[:, 1]
    ungrouped = score_fold(d.y, oof, name="kfold", subjects=d.subjects).balanced_accuracy
    assert ungrouped > 0.9  # trials of the same person in train and test: inflated
    assert abs(grouped - 0.5) < 0.2  # grouped by subject: chance, as it should be
    assert ungrouped - grouped > 0.3


# --- metrics and report ------------------------------------------------------------------


def test_score_fold_with_one_class_reports_nan_auc_with_reason():
    m = score_fold([1, 1, 1], [0.9, 0.2, 0.7], name="f", subjects=["a", "a", "b"])
    assert math.isnan(m.roc_auc)
    assert m.roc_auc_note == "test trials hold one class only"
    assert m.confusion == ((0, 0), (1, 2))
    assert m.brier == pytest.approx((0.01 + 0.64 + 0.09) / 3)


def test_calibration_table_against_loop():
    rng = np.random.default_rng(2)
    p = rng.random(300)
    y = (rng.random(300) < p).astype(int)
    bins = calibration_table(y, p, n_bins=4)
    for b in bins:
        inside = [
            (pi, yi)
            for pi, yi in zip(p, y, strict=True)
            if b.lower <= pi < b.upper or pi == b.upper == 1
        ]
        assert b.n == len(inside)
        assert b.mean_predicted == pytest.approx(np.mean([pi for pi, _ in inside]))
        assert b.observed_rate == pytest.approx(np.mean([yi for _, yi in inside]))


def test_report_round_trips_through_json(report):
    text = report.to_json()
    again = CVReport.from_dict(json.loads(text))
    assert again.to_dict() == report.to_dict()
    summary = report.summary()
    assert "5-fold subject-grouped CV" in summary
    assert "fold 4" in summary and "overall" in summary and "brier" in summary


def test_reliability_display_returns_axes(report):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = ReliabilityDisplay.from_report(report).plot(ax=ax)
    assert out is ax
    x, _ = out.lines[1].get_data()
    assert len(x) == sum(b.n > 0 for b in report.calibration)
    plt.close(fig)


def test_unfitted_and_bad_kind():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        CompensationClassifier().predict_proba(np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="kind must be one of"):
        CompensationClassifier(kind="forest").fit(np.zeros((8, 1)), np.tile([0, 1], 4))

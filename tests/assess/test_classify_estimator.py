from sklearn.utils.estimator_checks import parametrize_with_checks

from nkt_motion.assess import CompensationClassifier


@parametrize_with_checks(
    [
        CompensationClassifier(),
        CompensationClassifier(kind="boosting", n_trees=10, calibration_splits=2),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)

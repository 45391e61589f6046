"""Files of the assess stage: trial tables in, safe model files and model cards out.

A trained classifier is written with :func:`skops.io.dump` (never a pickle) to
``NAME.skops``, with a JSON *model card* beside it in ``NAME.card.json``. The card
records what the model is (kind, parameters, features, label classes), what it
was trained on (description, subjects, trials, whether the data were simulated),
how well it did in subject-grouped cross-validation, the package versions, the
date, and the SHA-256 of the model file.

:func:`load_model` refuses a model file whose hash differs from its card, and
loads only the object types in :data:`TRUSTED_TYPES`: anything else skops reports
as untrusted is refused by name, before any object is built.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
import skops.io as sio

from nkt_motion.assess.classify import CompensationClassifier
from nkt_motion.errors import FileFormatError

__all__ = [
    "CARD_FORMAT",
    "TRUSTED_TYPES",
    "ModelCard",
    "card_path",
    "load_model",
    "read_trial_table",
    "save_model",
]

logger = logging.getLogger(__name__)

#: Format tag written into every model card.
CARD_FORMAT: Final[str] = "nkt-motion-model-card/1"

#: Types a model file may hold beyond those skops trusts by default. Exactly
#: what a fitted :class:`CompensationClassifier` of either kind contains.
TRUSTED_TYPES: Final[frozenset[str]] = frozenset(
    {
        "nkt_motion.assess.classify.CompensationClassifier",
        "numpy.dtype",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)

#: Text of the card's ``intended_use`` field.
INTENDED_USE: Final[str] = (
    "Research and practice measurement aid: estimates how likely a trial's EMG/IMU "
    "features look like muscle compensation. Not a medical device; never a diagnosis."
)


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a saved model is, what it was trained on and how well it did.

    Parameters
    ----------
    warning : str
        Prominent warning (set when the training data were simulated), else empty.
    simulated : bool
        True when the training data came from a simulator.
    kind : str
        Classifier kind (``"logistic"`` or ``"boosting"``).
    params : dict
        ``CompensationClassifier.get_params()`` of the saved model.
    features : list of str
        Feature columns, in the order the model expects.
    label : str
        Label column name in the training table.
    classes : list of str
        Label values of class 0 and class 1; probabilities are for class 1.
    label_meaning : str
        What the predicted probability means, in words.
    data_description : str
        Where the training data came from.
    n_subjects, n_trials : int
        Size of the training table.
    cv_settings : dict
        ``n_splits`` (requested), ``random_state`` and ``n_bins`` of the CV.
    cv : dict
        :meth:`CVReport.to_dict` of the subject-grouped cross-validation.
    training_fingerprint : str
        :meth:`TrialData.fingerprint` of the training table.
    versions : dict
        Versions of Python packages used.
    created : str
        ISO 8601 UTC time of training.
    model_sha256 : str
        SHA-256 of the model file (filled in by :func:`save_model`).
    intended_use : str
        What the model may and may not be used for.
    format : str
        Card format tag.

    Examples
    --------
    >>> card = ModelCard(warning="", simulated=False, kind="logistic", params={},
    ...                  features=["f"], label="label", classes=["0", "1"],
    ...                  label_meaning="p(1)", data_description="", n_subjects=2, n_trials=4,
    ...                  cv_settings={}, cv={}, training_fingerprint="", versions={},
    ...                  created="2025-01-01T00:00:00+00:00")
    >>> ModelCard.from_dict(json.loads(card.to_json())) == card
    True
    """

    warning: str
    simulated: bool
    kind: str
    params: dict[str, Any]
    features: list[str]
    label: str
    classes: list[str]
    label_meaning: str
    data_description: str
    n_subjects: int
    n_trials: int
    cv_settings: dict[str, Any]
    cv: dict[str, Any]
    training_fingerprint: str
    versions: dict[str, str]
    created: str
    model_sha256: str = ""
    intended_use: str = INTENDED_USE
    format: str = field(default=CARD_FORMAT)

    def to_json(self) -> str:
        """Serialise to JSON (warning first, so it is the first thing a reader sees).

        Returns
        -------
        str
            Indented JSON text.
        """
        return json.dumps(asdict(self), indent=2, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        """Rebuild a card from its JSON object.

        Parameters
        ----------
        data : dict
            Parsed card JSON.

        Returns
        -------
        ModelCard
            The card.

        Raises
        ------
        FileFormatError
            Wrong format tag or missing fields.
        """
        if data.get("format") != CARD_FORMAT:
            raise FileFormatError(
                f"model card format must be {CARD_FORMAT!r}, got {data.get('format')!r}"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise FileFormatError(f"model card fields do not match: {exc}") from None


def card_path(model_path: str | Path) -> Path:
    """Path of the model card that belongs to a model file.

    Parameters
    ----------
    model_path : str or Path
        ``NAME.skops``.

    Returns
    -------
    Path
        ``NAME.card.json`` in the same folder.

    Examples
    --------
    >>> card_path("models/gmed.skops").as_posix()
    'models/gmed.card.json'
    """
    p = Path(model_path)
    return p.with_name(f"{p.stem if p.suffix else p.name}.card.json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_model(path: str | Path, estimator: CompensationClassifier, card: ModelCard) -> Path:
    """Write a fitted classifier with skops and its card as JSON beside it.

    Parameters
    ----------
    path : str or Path
        Model file to write (``.skops`` by convention).
    estimator : CompensationClassifier
        The fitted classifier.
    card : ModelCard
        Its card; ``model_sha256`` is filled in here.

    Returns
    -------
    Path
        The card file written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> clf = CompensationClassifier().fit(np.arange(10.0)[:, None], np.tile([0, 1], 5))
    >>> card = ModelCard(warning="", simulated=False, kind="logistic", params={},
    ...                  features=["f"], label="label", classes=["0", "1"],
    ...                  label_meaning="p(1)", data_description="doc", n_subjects=10,
    ...                  n_trials=10, cv_settings={}, cv={}, training_fingerprint="",
    ...                  versions={}, created="2025-01-01T00:00:00+00:00")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     written = save_model(pathlib.Path(d) / "m.skops", clf, card)
    ...     len(json.loads(written.read_text())["model_sha256"])
    64
    >>> written.name
    'm.card.json'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(estimator, p)
    cp = card_path(p)
    full = ModelCard.from_dict({**asdict(card), "model_sha256": _sha256(p)})
    cp.write_text(full.to_json() + "\n", encoding="utf-8")
    logger.info("wrote %s and %s", p, cp)
    return cp


def _read_card(path: Path) -> ModelCard:
    cp = card_path(path)
    try:
        data = json.loads(cp.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileFormatError("no model card beside the model file", path=cp) from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"model card is not JSON: {exc}", path=cp) from None
    if not isinstance(data, dict):
        raise FileFormatError("model card must be a JSON object", path=cp)
    return ModelCard.from_dict(data)


def load_model(path: str | Path) -> tuple[CompensationClassifier, ModelCard]:
    """Load a model file safely, with its card.

    The file's SHA-256 must match the card, and every type skops does not trust by
    default must be in :data:`TRUSTED_TYPES`; otherwise nothing is loaded.

    Parameters
    ----------
    path : str or Path
        Model file written by :func:`save_model`.

    Returns
    -------
    estimator : CompensationClassifier
        The fitted classifier.
    card : ModelCard
        Its card.

    Raises
    ------
    FileFormatError
        Missing or unreadable file or card, hash mismatch, untrusted types, or an
        object that is not a :class:`CompensationClassifier`.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> X = np.arange(20.0).reshape(10, 2); y = np.tile([0, 1], 5)
    >>> clf = CompensationClassifier().fit(X, y)
    >>> card = ModelCard(warning="", simulated=False, kind="logistic", params={},
    ...                  features=["a", "b"], label="label", classes=["0", "1"],
    ...                  label_meaning="p(1)", data_description="doc", n_subjects=10,
    ...                  n_trials=10, cv_settings={}, cv={}, training_fingerprint="",
    ...                  versions={}, created="2025-01-01T00:00:00+00:00")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_model(pathlib.Path(d) / "m.skops", clf, card)
    ...     clf2, card2 = load_model(pathlib.Path(d) / "m.skops")
    >>> bool((clf2.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError("model file not found", path=p)
    card = _read_card(p)
    if _sha256(p) != card.model_sha256:
        raise FileFormatError(
            "model file does not match the SHA-256 in its card (changed or replaced); "
            "refusing to load it",
            path=p,
        )
    try:
        untrusted = sio.get_untrusted_types(file=p)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise FileFormatError(f"not a skops model file: {exc}", path=p) from None
    unexpected = sorted(set(untrusted) - TRUSTED_TYPES)
    if unexpected:
        raise FileFormatError(f"refusing to load untrusted types {unexpected}", path=p)
    estimator = sio.load(p, trusted=list(untrusted))
    if not isinstance(estimator, CompensationClassifier):
        raise FileFormatError(
            f"expected a CompensationClassifier, found {type(estimator).__name__}", path=p
        )
    return estimator, card


def read_trial_table(path: str | Path) -> pd.DataFrame:
    r"""Read a trial table from CSV (always) or Parquet (needs pyarrow).

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.csv.gz`` or ``.parquet`` file.

    Returns
    -------
    pandas.DataFrame
        The table; ``subject`` is read as text.

    Raises
    ------
    FileFormatError
        Missing file, unknown suffix, Parquet without pyarrow, or an unreadable table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "t.csv"
    ...     _ = f.write_text("subject,f,label\n01,0.5,1\n")
    ...     read_trial_table(f)["subject"].tolist()
    ['01']
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError("trial table not found", path=p)
    name = p.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(p, dtype={"subject": str})
    if name.endswith(".parquet"):
        if importlib.util.find_spec("pyarrow") is None:
            raise FileFormatError(
                "reading Parquet needs pyarrow (pip install pyarrow); or save the table as CSV",
                path=p,
            )
        try:
            table = pd.read_parquet(p)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise FileFormatError(f"not a readable Parquet table ({exc})", path=p) from exc
        if "subject" in table.columns:
            table["subject"] = table["subject"].astype(str)
        return table
    raise FileFormatError("trial table must be .csv, .csv.gz or .parquet", path=p)

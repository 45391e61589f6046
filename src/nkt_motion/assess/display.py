"""A reliability (calibration) plot of a compensation classifier, Display style.

Like scikit-learn's Display objects: build from a report or from predictions,
then ``plot(ax=None)`` returns the Axes. matplotlib is imported only inside
``plot``, so the assess stage does not depend on it at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nkt_motion.assess.metrics import CalibrationBin, CVReport, calibration_table

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ReliabilityDisplay"]


class ReliabilityDisplay:
    """Mean predicted probability against observed positive rate, per bin.

    Parameters
    ----------
    bins : sequence of CalibrationBin
        Calibration table (empty bins are not drawn).
    name : str, optional
        Legend label of the curve.

    Attributes
    ----------
    ax_ : matplotlib.axes.Axes
        Axes drawn on, after :meth:`plot`.
    line_ : matplotlib.lines.Line2D
        The curve, after :meth:`plot`.

    Examples
    --------
    >>> disp = ReliabilityDisplay.from_predictions([0, 1, 1, 0], [0.1, 0.8, 0.7, 0.4])
    >>> ax = disp.plot()
    >>> ax.get_xlabel()
    'mean predicted probability'
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """

    def __init__(self, bins: tuple[CalibrationBin, ...], *, name: str | None = None) -> None:
        self.bins = tuple(bins)
        self.name = name

    @classmethod
    def from_report(cls, report: CVReport, *, name: str | None = None) -> ReliabilityDisplay:
        """Build from the pooled calibration table of a report.

        Parameters
        ----------
        report : CVReport
            Cross-validation or held-out report.
        name : str, optional
            Legend label; default the classifier kind.

        Returns
        -------
        ReliabilityDisplay
            The display (not yet drawn).
        """
        return cls(report.calibration, name=report.kind if name is None else name)

    @classmethod
    def from_predictions(
        cls, y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 5, name: str | None = None
    ) -> ReliabilityDisplay:
        """Build from 0/1 truth and predicted probabilities of class 1.

        Parameters
        ----------
        y_true : array-like of {0, 1}, shape (n_trials,)
            True class.
        y_prob : array-like of float, shape (n_trials,)
            Predicted probability of class 1.
        n_bins : int
            Number of equal-width bins.
        name : str, optional
            Legend label.

        Returns
        -------
        ReliabilityDisplay
            The display (not yet drawn).
        """
        return cls(calibration_table(y_true, y_prob, n_bins=n_bins), name=name)

    def _points(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        kept = [b for b in self.bins if b.n > 0]
        x = np.array([b.mean_predicted for b in kept], dtype=np.float64)
        y = np.array([b.observed_rate for b in kept], dtype=np.float64)
        n = np.array([b.n for b in kept], dtype=np.float64)
        return x, y, n

    def plot(self, ax: Axes | None = None, **line_kw: Any) -> Axes:
        """Draw the reliability curve and the diagonal of perfect calibration.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; default a new figure.
        **line_kw
            Passed to ``Axes.plot`` for the curve.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        x, y, n = self._points()
        ax.plot([0, 1], [0, 1], linestyle="--", color="0.6", label="perfectly calibrated")
        (self.line_,) = ax.plot(x, y, marker="o", label=self.name or "classifier", **line_kw)
        for xi, yi, ni in zip(x, y, n, strict=True):
            ax.annotate(f"n={int(ni)}", (xi, yi), textcoords="offset points", xytext=(4, -10))
        ax.set(
            xlim=(0, 1),
            ylim=(0, 1),
            xlabel="mean predicted probability",
            ylabel="observed positive rate",
            title="calibration",
        )
        ax.legend(loc="upper left")
        self.ax_ = ax
        return ax

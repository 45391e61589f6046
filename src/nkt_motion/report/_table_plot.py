"""The signal-quality table drawn as a figure (for the PDF and notebooks)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nkt_motion.report._style import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_quality"]


def _cell(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return "-" if not np.isfinite(value) else f"{value:.3g}"
    return textwrap.fill(str(value), 38) if value != "" else "-"


def plot_quality(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw the signal-quality table (:func:`nkt_motion.report.quality_table`) as a figure.

    Rows that fail a check are tinted red.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per channel.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Axes (axis off) holding one ``matplotlib.table.Table``.

    Examples
    --------
    >>> t = pd.DataFrame({"channel": ["EMG GMED L"], "SNR dB": [28.0], "ok": [True]})
    >>> ax = plot_quality(t)
    >>> len(ax.tables)
    1
    """
    lines = max((_cell(v).count("\n") + 1 for v in table.to_numpy().ravel()), default=1)
    ax = new_axes(ax, (11.0, 0.6 + 0.28 * (1 + max(len(table), 1) * lines)))
    from matplotlib.transforms import Bbox

    ax.axis("off")
    cells = [[_cell(v) for v in row] for row in table.itertuples(index=False)]
    ok = table["ok"].to_numpy(dtype=bool) if "ok" in table else np.ones(len(table), bool)
    colours = [["#fde0dd" if not good else "white"] * table.shape[1] for good in ok]
    tbl = ax.table(
        cellText=cells or None, colLabels=list(table.columns), cellColours=colours or None,
        bbox=Bbox.from_bounds(0.0, 0.0, 1.0, 1.0), cellLoc="left",
    )  # fmt: skip
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(8)
    tbl.auto_set_column_width(list(range(table.shape[1])))
    ax.set_title("Signal quality per EMG channel (red: fails a check)", loc="left")
    return ax

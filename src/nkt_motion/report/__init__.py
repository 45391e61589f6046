"""Session reports: plots that return Axes, and a self-contained HTML and PDF report.

Only this subpackage imports matplotlib (lazily, inside the plotting functions).
A report describes one recording; it is a measurement, never a diagnosis.
"""

from nkt_motion.report._data import (
    ReportData,
    collect,
    collect_sides,
    quality_table,
    sign_thresholds,
)
from nkt_motion.report.build import ReportPaths, build_report, pair_figure, report_figures
from nkt_motion.report.plots import (
    compensation_traces,
    plot_emg,
    plot_imu,
    plot_onsets,
    plot_quality,
    plot_ratios,
)

__all__ = [
    "ReportData",
    "ReportPaths",
    "build_report",
    "collect",
    "collect_sides",
    "compensation_traces",
    "pair_figure",
    "plot_emg",
    "plot_imu",
    "plot_onsets",
    "plot_quality",
    "plot_ratios",
    "quality_table",
    "report_figures",
    "sign_thresholds",
]

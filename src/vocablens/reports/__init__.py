"""Reports: per-layer HTML pages and PNG figures that read a model in its own vocabulary.

``generate_report(model, prompts, layers, out)`` = :func:`compute_report` (the only step that
touches the model) then :func:`render_report` (data to files).
"""

from vocablens.layerspec import parse_layers
from vocablens.reports.compute import compute_report
from vocablens.reports.config import ReportConfig
from vocablens.reports.prompts import DEFAULT_PROMPTS, read_prompts
from vocablens.reports.render import render_report
from vocablens.reports.report import generate_report
from vocablens.reports.report_data import ReportData

__all__ = [
    "DEFAULT_PROMPTS",
    "ReportConfig",
    "ReportData",
    "compute_report",
    "generate_report",
    "parse_layers",
    "read_prompts",
    "render_report",
]

"""``paretokit report``: the one verdict table (:mod:`.build`) and its formats
(:mod:`.formats`: terminal/Markdown cells, JSON, CSV)."""

from paretokit.report.build import (
    CHOICE_SPLIT,
    Note,
    Report,
    SweepSummary,
    build_reports,
    plural,
    restrict,
    verdict_text,
)

__all__ = [
    "CHOICE_SPLIT",
    "Note",
    "Report",
    "SweepSummary",
    "build_reports",
    "plural",
    "restrict",
    "verdict_text",
]

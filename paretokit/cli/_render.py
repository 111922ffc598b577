"""The one renderer: a DataFrame as a rich table, markdown, strict JSON or CSV.

Machine formats (JSON, CSV) write only the data to stdout; JSON is strict (a missing or
non-finite number is ``null``, never ``NaN``).
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from paretokit.cli._app import console, err_console, wide_console
from paretokit.cli._options import Format

if TYPE_CHECKING:
    import pandas as pd


def render(frame: pd.DataFrame, title: str, fmt: Format) -> None:
    """Print ``frame`` in ``fmt``: the title only heads the rich table."""
    if fmt is Format.json:
        sys.stdout.write(dumps_json(frame.to_dict(orient="records")) + "\n")
    elif fmt is Format.csv:
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt is Format.markdown:
        sys.stdout.write(markdown(frame) + "\n")
    else:
        table = Table(title=title)
        for i, col in enumerate(frame.columns):  # escaped: units like "[eV]" are not markup
            table.add_column(escape(str(col)), justify="right", no_wrap=i == 0)
        for _, row in frame.iterrows():
            table.add_row(*(escape(cell(v)) for v in row))
        wide_console().print(table)


def render_empty_json() -> None:
    """No rows: still a JSON document (an empty list) for a script reading stdout."""
    sys.stdout.write("[]\n")


def message(text: str, fmt: Format) -> None:
    """A summary line (rich markup): on stdout beside a table, on stderr beside data."""
    if fmt in (Format.json, Format.csv):
        err_console.print(text)
    else:
        console.print(text)


def strict(value: Any) -> Any:
    """``value`` with every NaN/±inf float (also inside lists and dicts) as None, and numpy
    scalars as Python numbers, so that ``json.dumps(..., allow_nan=False)`` accepts it."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    return value


def dumps_json(value: Any) -> str:
    """Strict JSON: raises rather than writing NaN or Infinity."""
    return json.dumps(strict(value), indent=2, allow_nan=False)


def markdown(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    sep = "|" + "|".join("---:" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for _, row in frame.iterrows()]
    return "\n".join([head, sep, *body])


def cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)

"""What ``paretokit problems`` and ``paretokit methods`` list, readable without importing torch.

The rows are built from the problem and method classes by :func:`build` (which imports them,
and torch with them) and shipped with the package as ``catalog.json``; :func:`load` reads that
file, so the two listing commands start as fast as ``--help``. ``tests/test_catalog.py`` checks
that the file says exactly what the classes say now; after changing a problem's or a method's
description, options or tasks, write it again with ``python -m paretokit.catalog``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("catalog.json")


def load() -> dict[str, list[dict[str, str]]]:
    """The shipped rows: ``{"problems": [...], "methods": [...]}``, one dict of cells a row."""
    return json.loads(PATH.read_text(encoding="utf-8"))


def build() -> dict[str, list[dict[str, str]]]:
    """The rows as the classes give them now (imports every built-in problem and method)."""
    return {"problems": _problems(), "methods": _methods()}


def _problems() -> list[dict[str, str]]:
    from paretokit.problems import builtin_problems, problem_class

    rows = []
    for name in builtin_problems():
        cls: Any = problem_class(name)
        tasks = cls.list_tasks() if hasattr(cls, "list_tasks") else cls().available_tasks()
        d = cls.defaults
        rows.append(
            {
                "name": name,
                "summary": cls.summary,
                "tasks": ", ".join(
                    f"{t.name} ({t.metric}{' ' + t.unit if t.unit else ''}, "
                    f"{'↑' if t.higher_is_better else '↓'})"
                    for t in tasks
                ),
                "default_tasks": str(cls.default_n_tasks or len(tasks)),
                "defaults": f"{d.epochs} epochs, batch {d.batch_size}, lr {d.lr:g}, "
                f"{d.seeds} seeds; "
                f"model {' | '.join(cls.models)}",
                "source": cls.source,
            }
        )
    return rows


def _methods() -> list[dict[str, str]]:
    from paretokit.methods import method_class, method_names

    rows = []
    for name in method_names():
        cls = method_class(name)
        defaults = cls.option_defaults()
        if "feature_level" in defaults:  # see GramianWeighting: what feature gradients are
            grads = (
                "features*, parameters" if defaults["feature_level"] else "parameters*, features"
            )
        else:
            grads = "parameters" if cls.kind == "aggregation" else "-"
        rows.append(
            {
                "name": name,
                "kind": cls.kind,
                "summary": cls.summary,
                "options": ", ".join(f"{k}={v!r}" for k, v in defaults.items()) or "-",
                "gradients": grads,
                "citation": cls.citation,
            }
        )
    return rows


def write() -> None:
    """Write ``catalog.json`` from the classes."""
    PATH.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {PATH}")

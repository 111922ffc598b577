"""The shipped catalog that `paretokit problems` and `paretokit methods` list says exactly what
the problem and method classes say."""

from __future__ import annotations

from paretokit import catalog
from paretokit.methods import method_names
from paretokit.problems import builtin_problems


def test_the_shipped_catalog_is_what_the_classes_say():
    shipped, now = catalog.load(), catalog.build()
    for kind in ("problems", "methods"):
        for old, new in zip(shipped[kind], now[kind]):
            assert old == new, f"regenerate: python -m paretokit.catalog ({kind}: {new['name']})"
    assert shipped == now, "regenerate: python -m paretokit.catalog (a row added or removed)"


def test_the_catalog_lists_every_builtin_problem_and_method_in_order():
    shipped = catalog.load()
    assert [r["name"] for r in shipped["problems"]] == builtin_problems()
    assert [r["name"] for r in shipped["methods"]] == method_names()

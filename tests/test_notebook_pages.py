"""The course teaches on the page: helper calls (figures, tables, widgets) dominate at most a quarter of
a notebook's code cells (issue: "the mechanisms are not on the page").

A code cell is *helper-dominated* when more than half of its top-level statements call into
``posgen_lib.course.lessons`` / ``views`` / ``widgets``, directly or through a name the notebook imported
from there (``from posgen_lib.course.lessons import pixel_head as ha``).
"""
from __future__ import annotations

import json
import re

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HELPER_SHARE = 0.25


def code_cells(path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def helper_pattern(cells: list[str]) -> re.Pattern:
    aliases = set()
    for cell in cells:
        for names in re.findall(r"from posgen_lib\.course\.(?:lessons|views|widgets) import (.+)", cell):
            for name in names.split("#")[0].split(","):
                aliases.add(name.split(" as ")[-1].strip())
    names = "|".join(re.escape(a) for a in sorted(aliases) if a)
    return re.compile(r"\bpg\.course\.(lessons|views|widgets)\b" + (rf"|\b({names})\." if names else ""))


def helper_dominated(cell: str, pattern: re.Pattern) -> bool:
    statements = [ln for ln in cell.splitlines()
                  if ln.strip() and not ln.lstrip().startswith("#") and not ln.startswith((" ", "\t", ")", "]", "}"))]
    return bool(statements) and sum(bool(pattern.search(s)) for s in statements) / len(statements) > 0.5


def test_the_measure_tells_a_helper_cell_from_a_cell_that_shows_the_mechanism():
    cells = ["from posgen_lib.course.lessons import pixel_head as ha", "ha.figure(G)\nprint(ha.table(G))",
             "x = G.trunk(sem)  # (1, 12, 64, 128)\ny = G.head(x)\nha.figure(y)"]
    pattern = helper_pattern(cells)
    assert [helper_dominated(c, pattern) for c in cells] == [False, True, False]
    assert helper_dominated("pg.course.views.resolution_figure(G, scene)", pattern)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_helper_dominated_cells_are_at_most_a_quarter(path):
    cells = code_cells(path)
    pattern = helper_pattern(cells)
    dominated = [i for i, c in enumerate(cells) if helper_dominated(c, pattern)]
    assert len(dominated) <= HELPER_SHARE * len(cells), (
        f"{path.name}: code cells {dominated} are mostly helper calls ({len(dominated)} of {len(cells)}); "
        "show the mechanism in the cell or merge a widget with its static figure")


def markdown(path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_states_the_run_time_in_both_modes(path):
    first = markdown(path)[0]
    found = re.search(r"\*\*Run time\*\*[^\n]*", first, flags=re.S)
    assert found, f"{path.name}: the first cell must state the run time (docs/teaching.md, 'Run times')"
    text = first[found.start():]
    assert "POSGEN_FAST=1" in text and "full budgets" in text and "to be measured" not in text, text[:300]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_original_report_is_cited_as_an_unpublished_course_report(path):
    text = re.sub(r"\s+", " ", "\n".join(markdown(path)))
    if "PosGen report" in text:
        assert "unpublished course report" in text.lower() and "16-726" in text, \
            f"{path.name}: cite the original report as an unpublished course report (Z. Huang, CMU 16-726, 2021)"
    assert "prototype" not in text.lower() and "the seed" not in text.lower(), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_project_bookkeeping_on_the_page(path):
    """The course teaches; the project's own targets (met or MISSED) belong to docs/results.md."""
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) + "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
                     for c in cells)
    assert "MISSED" not in text and "targets_table" not in text, path.name

"""The grading loop with nbgrader's own tools and gradebook, end to end (docs/teaching.md, "Grading").

``posgen assign release`` a course notebook, two students hand it in (alice with correct answers,
bob with plausible wrong ones from tests/wrong_answers), ``collect``, ``autograde`` (nbgrader runs
both submissions top to bottom with POSGEN_FAST=1 and records the grades in its sqlite
gradebook), ``scores``, ``feedback``. Notebook 04 is the loop's notebook: the cheapest course
notebook to run; the commands work on every notebook alike.
"""
from __future__ import annotations

import runpy
import sqlite3
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="install the instructor extra: pip install -e '.[instructor]'")

from posgen_lib.cli import main as posgen  # noqa: E402
from posgen_lib.course import grading  # noqa: E402
from posgen_lib.course.exercises import find_exercises  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_datasets.ipynb"
ASSIGNMENT = NOTEBOOK.stem
BOB_WRONG = 2  # bob answers this many exercises wrongly (the first wrong answer of each)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _unmarked(source: str) -> str:
    """A solution as a student writes it: the instructor's code without nbgrader's markers."""
    return "\n".join(line for line in source.splitlines() if "BEGIN SOLUTION" not in line
                     and "END SOLUTION" not in line)


def submissions(released: Path, out: Path) -> tuple[float, float, list[str]]:
    """alice.ipynb (every exercise solved, every question answered) and bob/<notebook> (the first
    BOB_WRONG exercises answered wrongly, the rest solved, no question answered) in ``out``;
    returns (alice's autograded points, bob's, the exercises bob got wrong)."""
    source = nbformat.read(NOTEBOOK, as_version=4)
    answers = {_meta(c)["grade_id"]: c.source for c in source.cells if _meta(c).get("solution")}
    wrong = runpy.run_path(str(ROOT / "tests" / "wrong_answers" / f"{ASSIGNMENT}.py"))["WRONG"]
    exercises = find_exercises(source)
    bob_wrong = [e.grade_id for e in exercises if e.grade_id in wrong][:BOB_WRONG]
    alice, bob = (nbformat.read(released, as_version=4) for _ in range(2))
    for nb, who in ((alice, "alice"), (bob, "bob")):
        for cell in nb.cells:
            grade_id = _meta(cell).get("grade_id")
            if not _meta(cell).get("solution"):
                continue
            if cell.cell_type == "markdown":
                cell.source = _unmarked(answers[grade_id]) if who == "alice" else cell.source
            elif who == "bob" and grade_id in bob_wrong:
                cell.source = wrong[grade_id][0][1]
            else:
                cell.source = _unmarked(answers[grade_id])
    out.mkdir()
    nbformat.write(alice, out / "alice.ipynb")
    (out / "bob").mkdir()
    nbformat.write(bob, out / "bob" / f"{ASSIGNMENT}.ipynb")
    full = sum(e.points for e in exercises)
    return full, full - sum(e.points for e in exercises if e.grade_id in bob_wrong), bob_wrong


def test_release_collect_autograde_feedback_with_nbgraders_gradebook(tmp_path, monkeypatch, capsys):
    course, cache = tmp_path / "course", tmp_path / "cache"
    monkeypatch.setenv("POSGEN_CKPT_DIR", str(cache))  # the notebooks' training goes here, not to the students
    assert posgen(["assign", "release", str(NOTEBOOK), "--course", str(course)]) == 0
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "YOUR CODE HERE" in text
    assert (course / "nbgrader_config.py").read_text() == (ROOT / "nbgrader_config.py").read_text()

    alice_points, bob_points, bob_wrong = submissions(released, tmp_path / "inbox")
    assert bob_wrong and bob_points < alice_points
    assert posgen(["assign", "collect", ASSIGNMENT, str(tmp_path / "inbox"), "--course", str(course)]) == 0
    assert posgen(["assign", "autograde", ASSIGNMENT, "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert f"alice            {alice_points:g} / " in out and f"bob              {bob_points:g} / " in out, out

    rows = {row.student: row for row in grading.scores(ASSIGNMENT, course)}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"].score == alice_points and rows["bob"].score == bob_points
    assert rows["alice"].max_score == rows["bob"].max_score > alice_points  # the questions are graded by hand
    bob = {e.name: e for e in rows["bob"].exercises}
    for grade_id in bob_wrong:
        tests_id = grade_id.replace("-solution", "-tests")
        assert bob[tests_id].score == 0 < bob[tests_id].max_score, bob[tests_id]
    assert any(e.needs_manual_grade for e in rows["alice"].exercises), "alice's answers await the instructor"
    with sqlite3.connect(course / "gradebook.db") as db:  # nbgrader's real sqlite gradebook
        assert {s for (s,) in db.execute("select id from student")} == {"alice", "bob"}

    assert posgen(["assign", "feedback", ASSIGNMENT, "--course", str(course)]) == 0
    for student in ("alice", "bob"):
        page = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file() and "Score:" in page.read_text()
        graded = course / "autograded" / student / ASSIGNMENT
        assert sorted(p.name for p in graded.iterdir()) == [f"{ASSIGNMENT}.ipynb", "timestamp.txt"], \
            "nothing the notebook made lands in the student's folder"
    feedback_files = [p for p in (course / "feedback").rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in feedback_files) < 5_000_000, "feedback holds pages, not models"

    # collecting again keeps what was collected; --force replaces it
    assert posgen(["assign", "collect", ASSIGNMENT, str(tmp_path / "inbox"), "--course", str(course)]) == 0
    assert "kept" in capsys.readouterr().out


def test_collect_reads_both_layouts_and_refuses_what_it_cannot_use(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "01_toy").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    inbox = tmp_path / "inbox"
    (inbox / "carol" / "sub").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, inbox / "dave.ipynb")
    nbformat.write(nb, inbox / "carol" / "sub" / "01_toy.ipynb")
    (inbox / "notes.txt").write_text("not a submission")
    got = {c.student: c for c in grading.collect("01_toy", inbox, course)}
    assert set(got) == {"carol", "dave"} and all(c.status == "collected" for c in got.values())
    assert (course / "submitted" / "dave" / "01_toy" / "01_toy.ipynb").is_file()
    assert (course / "submitted" / "carol" / "01_toy" / "timestamp.txt").is_file()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("new")]), inbox / "dave.ipynb")
    assert grading.collect("01_toy", inbox, course)[1].status.startswith("kept")
    assert grading.collect("01_toy", inbox, course, force=True)[1].status == "updated"
    assert "new" in (course / "submitted" / "dave" / "01_toy" / "01_toy.ipynb").read_text()

    (inbox / "bad name.ipynb").write_text((inbox / "dave.ipynb").read_text())
    with pytest.raises(grading.GradingError, match="not a usable student id"):
        grading.collect("01_toy", inbox, course)
    with pytest.raises(grading.GradingError, match="release it first"):
        grading.collect("02_other", inbox, course)
    with pytest.raises(grading.GradingError, match="collect them first"):
        grading.autograde("02_other", course)

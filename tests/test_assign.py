"""Student copies, leak checks and the exercise checker, on every course notebook.

For each notebook in notebooks/ with exercises: every exercise passes with the
instructor's solution and fails with the student stub, and its student copy
holds no solution or hidden-test text. The tooling itself is tested on a small
notebook built here, including a planted leak that ``--check`` must catch.
"""
from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

pytest.importorskip("nbgrader", reason="install the instructor extra: pip install -e '.[instructor]'")

from posgen_lib.cli import main as posgen  # noqa: E402
from posgen_lib.course import assign  # noqa: E402
from posgen_lib.course.exercises import (find_exercises, grade_submission, run_exercise,  # noqa: E402
                                         run_exercises)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WITH_EXERCISES = [p for p in NOTEBOOKS if find_exercises(nbformat.read(p, as_version=4), str(p))]
WRONG_ANSWERS = ROOT / "tests" / "wrong_answers"  # see its README.md


def wrong_answers() -> list[tuple[Path, str, str, str]]:
    """(notebook, grade_id, what is wrong, the wrong solution cell) from tests/wrong_answers/*.py."""
    cases = []
    for module in sorted(WRONG_ANSWERS.glob("*.py")):
        notebook = ROOT / "notebooks" / f"{module.stem}.ipynb"
        for grade_id, answers in runpy.run_path(str(module))["WRONG"].items():
            cases += [(notebook, grade_id, label, source) for label, source in answers]
    return cases


def _meta(grade_id: str, solution: bool, points: int = 0) -> dict:
    meta = {"grade": not solution, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if not solution:
        meta["points"] = points
    return {"nbgrader": meta}


def toy_notebook():
    """Two exercises; the second has hidden tests."""
    return new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                 "language": "python"}}, cells=[
        new_markdown_cell("# toy"),
        new_code_cell("import math", metadata={"tags": ["setup"]}),
        new_code_cell("expensive = 1 / 0  # not tagged setup, never run by the checker"),
        new_code_cell('def area(r):\n    """Area of a disc."""\n    ### BEGIN SOLUTION\n'
                      "    return math.pi * r * r\n    ### END SOLUTION", metadata=_meta("toy-ex1", True)),
        new_code_cell("assert abs(area(1) - 3.14159) < 1e-4", metadata=_meta("toy-ex1-tests", False, 2)),
        new_markdown_cell("Now the doubling."),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    twice_the_input = 2 * x\n"
                      "    return twice_the_input\n    ### END SOLUTION", metadata=_meta("toy-ex2", True)),
        new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n"
                      "### END HIDDEN TESTS", metadata=_meta("toy-ex2-tests", False, 1)),
    ])


def test_find_exercises_collects_setup_cells_above_each_solution():
    exercises = find_exercises(toy_notebook())
    assert [(e.grade_id, e.setup, e.solution, e.test, e.points) for e in exercises] == [
        ("toy-ex1", (1,), 3, 4, 2.0), ("toy-ex2", (1,), 6, 7, 1.0)]


def test_malformed_exercises_are_named():
    nb = toy_notebook()
    del nb.cells[4]  # the first solution loses its test cell
    with pytest.raises(ValueError, match="toy-ex1.*solution cell without a test cell"):
        find_exercises(nb, "toy.ipynb")


def test_solution_passes_stub_fails_and_hidden_tests_are_gone():
    nb = toy_notebook()
    assert all(r.passed for r in run_exercises(nb))
    student = assign.student_version(nb)
    results = run_exercises(student)
    assert [r.passed for r in results] == [False, False]
    assert results[0].stage == "test" and "NotImplementedError" in results[0].error
    assert "double(-3)" not in student.cells[7].source and "double(2) == 4" in student.cells[7].source
    assert student.cells[4].metadata["editable"] is False  # nbgrader locked the test cell
    assert assign.find_leaks(student, nb) == []


def test_a_wrong_answer_fails_only_the_hidden_test(tmp_path):
    source = tmp_path / "toy.ipynb"
    nbformat.write(toy_notebook(), source)
    submission = assign.student_version(toy_notebook())
    submission.cells[3].source = "def area(r):\n    return math.pi * r * r"
    submission.cells[6].source = "def double(x):\n    return 4 if x == 2 else 0"  # fools the visible test
    nbformat.write(submission, tmp_path / "submitted.ipynb")
    assert all(r.passed for r in run_exercises(submission))
    results = grade_submission(tmp_path / "submitted.ipynb", source)
    assert [(r.passed, r.points) for r in results] == [(True, 2.0), (False, 0.0)]


def test_student_build_and_check_catch_a_planted_leak(tmp_path, capsys):
    src, out = tmp_path / "notebooks", tmp_path / "build" / "student"
    src.mkdir()
    nbformat.write(toy_notebook(), src / "01_toy.ipynb")
    assert posgen(["assign", "student", str(src), str(out)]) == 0
    assert posgen(["assign", "student", str(src), str(out), "--check"]) == 0

    built = out / "01_toy.ipynb"
    clean_text = built.read_text()
    assert "twice_the_input" not in clean_text and "BEGIN" not in clean_text
    student = nbformat.read(built, as_version=4)
    student.cells[6].source += "\n# hint: twice_the_input = 2 * x"  # a solution line slips through
    nbformat.write(student, built)
    capsys.readouterr()
    assert posgen(["assign", "student", str(src), str(out), "--check"]) == 1
    assert "twice_the_input = 2 * x" in capsys.readouterr().err

    student.cells[6].source = "### BEGIN HIDDEN TESTS"  # a bare marker
    nbformat.write(student, built)
    assert posgen(["assign", "student", str(src), str(out), "--check"]) == 1
    built.unlink()
    assert posgen(["assign", "student", str(src), str(out), "--check"]) == 1
    assert "missing student copy" in capsys.readouterr().err


def test_solution_region_outside_a_solution_cell_is_refused():
    nb = toy_notebook()
    nb.cells[1].source += "\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    with pytest.raises(ValueError, match="toy.ipynb: Solution region detected in a non-solution cell"):
        assign.student_version(nb, "toy.ipynb")


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_course_notebook_exercises(path):
    nb = nbformat.read(path, as_version=4)
    solved = run_exercises(nb, folder=path.parent)
    assert solved and all(r.passed for r in solved), "\n".join(map(str, solved))
    student = assign.student_version(nb, str(path))
    stubbed = run_exercises(student, folder=path.parent)
    assert not any(r.passed for r in stubbed), "the student stub passes:\n" + "\n".join(map(str, stubbed))
    assert assign.find_leaks(student, nb, str(path)) == []


def test_course_student_build_has_no_solution_text(tmp_path):
    if not NOTEBOOKS:
        pytest.skip("no notebooks yet")
    written = assign.build_student(ROOT / "notebooks", tmp_path)
    assert len(written) == len(NOTEBOOKS)
    assert assign.check_student(ROOT / "notebooks", tmp_path) == []


def test_student_copy_matches_nbgrader_generate_assignment(tmp_path):
    """Our copy is what nbgrader's own `generate_assignment` releases (cells, metadata, outputs)."""
    source = tmp_path / "course" / "source" / "toy"
    source.mkdir(parents=True)
    nbformat.write(toy_notebook(), source / "toy.ipynb")
    bin_dir = Path(sys.executable).parent  # nbgrader runs `alembic` from PATH
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "toy", "--create"],
                   cwd=tmp_path / "course", env=env, check=True, capture_output=True, timeout=300)
    released = nbformat.read(tmp_path / "course" / "release" / "toy" / "toy.ipynb", as_version=4)
    ours = assign.student_version(toy_notebook())
    assert [(c.source, c.metadata, c.get("outputs")) for c in ours.cells] == \
        [(c.source, c.metadata, c.get("outputs")) for c in released.cells]


_SOLUTION_PASSES: dict[tuple[Path, str], bool] = {}


@pytest.mark.parametrize("notebook,grade_id,label,source", wrong_answers(),
                         ids=[f"{c[1]}: {c[2]}" for c in wrong_answers()])
def test_plausible_wrong_answers_fail(notebook, grade_id, label, source, monkeypatch):
    monkeypatch.chdir(notebook.parent)  # where a kernel, and the checker, run the cells
    nb = nbformat.read(notebook, as_version=4)
    exercise = next((e for e in find_exercises(nb, str(notebook)) if e.grade_id == grade_id), None)
    assert exercise is not None, f"{notebook.name} has no exercise {grade_id}"
    if (notebook, grade_id) not in _SOLUTION_PASSES:  # once per exercise: the instructor's solution passes
        _SOLUTION_PASSES[notebook, grade_id] = run_exercise(nb, exercise, notebook.name).passed
    assert _SOLUTION_PASSES[notebook, grade_id], "the instructor's solution must pass first"
    nb.cells[exercise.solution].source = source
    result = run_exercise(nb, exercise, notebook.name)
    assert not result.passed, f"{label!r} passes the tests of {grade_id}"

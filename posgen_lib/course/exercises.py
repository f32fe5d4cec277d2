"""Find the nbgrader exercises of a notebook and run each one on its own.

An exercise (docs/teaching.md) is a *solution cell* (nbgrader metadata
``solution: true``) followed by its autograded *test cell* (``grade: true``,
``locked: true``); markdown cells may sit between them. Everything the
exercise needs is in cells tagged ``setup`` above it.

:func:`run_exercises` runs every exercise in a fresh namespace, in this
process, as the assignment checker and the grader do::

    namespace = {}
    exec each "setup" cell above the solution cell     (stage "setup")
    exec the solution cell                             (stage "solution")
    exec the test cell                                 (stage "test")

with ``random``, numpy and torch seeded to 0 first and the working directory
set to the notebook's folder (where a kernel would run). An exercise passes
when nothing raises. Plain Python only: IPython magics (``%``/``!`` lines)
fail to compile and are reported as such. Printed output is captured, not
shown.

:func:`grade_submission` grades a student's copy: it takes the submission's
solution cells (matched by ``grade_id``) and everything else, hidden tests
included, from the instructor's notebook, as ``nbgrader autograde`` does.
"""
from __future__ import annotations

import contextlib
import copy
import io
import os
import random
import traceback
from dataclasses import dataclass
from pathlib import Path

from .nbclean import load_notebook

SETUP_TAG = "setup"


@dataclass(frozen=True)
class Exercise:
    """Cell indices of one exercise in its notebook."""

    grade_id: str  # the solution cell's grade_id
    setup: tuple[int, ...]
    solution: int
    test: int
    points: float


@dataclass(frozen=True)
class ExerciseResult:
    grade_id: str
    passed: bool
    points: float  # the points earned: all of them or none
    max_points: float
    stage: str = ""  # where it failed: setup, solution or test
    error: str = ""  # the last line of the traceback

    def __str__(self) -> str:
        if self.passed:
            return f"PASS  {self.grade_id} ({self.points:g}/{self.max_points:g})"
        return f"FAIL  {self.grade_id} (0/{self.max_points:g}) in {self.stage} cell: {self.error}"


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def read_notebook(path_or_nb, as_copy: bool = True):
    """(NotebookNode, display name) from a path or an already-read notebook."""
    if isinstance(path_or_nb, (str, Path)):
        return load_notebook(path_or_nb), str(path_or_nb)
    return (copy.deepcopy(path_or_nb) if as_copy else path_or_nb), "notebook"


def find_exercises(nb, name: str = "notebook") -> list[Exercise]:
    """The exercises of ``nb`` in order; ValueError naming ``name`` and the cell if malformed."""
    exercises, setup, pending = [], [], None
    for index, cell in enumerate(nb.cells):
        meta = _nbgrader(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution") and meta.get("grade"):
            raise ValueError(f"{name} cell {index} ({meta.get('grade_id')!r}) is both a solution and a "
                             "test cell; put the tests in their own cell after the solution cell")
        if meta.get("solution"):
            if pending is not None:
                raise ValueError(f"{name} cell {pending[1]} ({pending[0]!r}): solution cell without a "
                                 "test cell after it; add an autograded test cell (grade: true)")
            pending = (meta.get("grade_id", f"cell{index}"), index)
        elif meta.get("grade"):
            if pending is None:
                raise ValueError(f"{name} cell {index} ({meta.get('grade_id')!r}): test cell without a "
                                 "solution cell before it; each test cell follows its solution cell")
            exercises.append(Exercise(pending[0], tuple(setup), pending[1], index,
                                      float(meta.get("points", 0))))
            pending = None
        elif pending is not None:
            raise ValueError(f"{name} cell {index}: a code cell between solution cell "
                             f"{pending[0]!r} and its test cell; move it above the solution cell")
        if SETUP_TAG in cell.metadata.get("tags", []):
            setup.append(index)
    if pending is not None:
        raise ValueError(f"{name} cell {pending[1]} ({pending[0]!r}): solution cell without a test cell "
                         "after it; add an autograded test cell (grade: true)")
    return exercises


@contextlib.contextmanager
def _working_directory(folder: Path):
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _seed_everything() -> None:
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


def run_exercise(nb, exercise: Exercise, name: str = "notebook") -> ExerciseResult:
    """Run one exercise in a fresh namespace (see the module docstring)."""
    namespace = {"__name__": "__main__"}
    stages = [("setup", i) for i in exercise.setup]
    stages += [("solution", exercise.solution), ("test", exercise.test)]
    _seed_everything()
    for stage, index in stages:
        try:
            code = compile(nb.cells[index].source, f"<{name} cell {index}>", "exec")
            with contextlib.redirect_stdout(io.StringIO()):
                exec(code, namespace)  # noqa: S102 - running the notebook's own cells is the point
        except BaseException as err:  # noqa: BLE001 - a student's code may raise anything
            if isinstance(err, KeyboardInterrupt):
                raise
            last = traceback.format_exception_only(type(err), err)[-1].strip()
            return ExerciseResult(exercise.grade_id, False, 0.0, exercise.points, stage,
                                  f"{last} (cell {index})")
    return ExerciseResult(exercise.grade_id, True, exercise.points, exercise.points)


def run_exercises(path_or_nb, folder: str | Path | None = None) -> list[ExerciseResult]:
    """Run every exercise of a notebook (a path or a NotebookNode); one result per exercise.

    ``folder`` is the working directory for the cells (default: the notebook's
    folder, or the current one for a NotebookNode).
    """
    nb, name = read_notebook(path_or_nb)
    if folder is None:
        folder = Path(name).parent if isinstance(path_or_nb, (str, Path)) else Path.cwd()
    with _working_directory(Path(folder)):
        return [run_exercise(nb, ex, name) for ex in find_exercises(nb, name)]


def merge_submission(submission, source):
    """The instructor's notebook with the student's solution cells (by grade_id) put in."""
    sub_nb, sub_name = read_notebook(submission)
    merged, src_name = read_notebook(source)
    answers = {_nbgrader(c).get("grade_id"): c.source for c in sub_nb.cells if _nbgrader(c).get("solution")}
    for cell in merged.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if _nbgrader(cell).get("solution"):
            if grade_id not in answers:
                raise ValueError(f"{sub_name} has no solution cell {grade_id!r} (from {src_name}); "
                                 "was it deleted or is it the wrong notebook?")
            cell.source = answers[grade_id]
    return merged


def grade_submission(submission: str | Path, source: str | Path) -> list[ExerciseResult]:
    """Grade a student's notebook against the instructor's (hidden tests included)."""
    return run_exercises(merge_submission(submission, source), folder=Path(source).parent)

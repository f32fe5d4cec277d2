"""The grading loop with nbgrader's own tools: release, collect, autograde, feedback.

``posgen assign release|collect|autograde|feedback|scores`` (``make assign-*``)
drive nbgrader 0.9 on a *course folder* (default ``course/``, never committed:
it holds students' work and grades)::

    course/
      nbgrader_config.py                    copied from the repository's at the first release
      gradebook.db                          nbgrader's gradebook (sqlite)
      source/<assignment>/<assignment>.ipynb   the instructor's notebook (solutions, hidden tests)
      release/<assignment>/<assignment>.ipynb  what students get
      submitted/<student>/<assignment>/...  collected submissions
      autograded/<student>/<assignment>/... executed and graded
      feedback/<student>/<assignment>/<assignment>.html

One notebook is one assignment, named like the notebook (``06_resolution_upscaling``).
Every nbgrader command runs as a subprocess in the course folder, so it reads
the course's ``nbgrader_config.py`` (cell timeouts and the rest), with this
environment's ``bin`` folder on ``PATH`` (nbgrader runs ``alembic`` from there).
``autograde`` runs the submissions with ``POSGEN_FAST=1`` (tiny training
budgets; the graded exercises never depend on them), and the notebooks train
into the checkpoint cache (``POSGEN_CKPT_DIR``), never into a student's folder.

A command writes only inside the course folder, and only what it creates:
``collect`` keeps a submission it collected before unless ``force``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from .assign import find_leaks
from .lab import repository_root
from .nbclean import find_notebooks

CONFIG = "nbgrader_config.py"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


class GradingError(ValueError):
    """A grading command cannot go on; the message says why and what to do."""


def repository_config() -> Path:
    """The repository's ``nbgrader_config.py`` (next to ``notebooks/``)."""
    path = repository_root() / CONFIG
    if not path.is_file():
        raise GradingError(f"{path} is missing: it holds the course's nbgrader settings (docs/teaching.md)")
    return path


def nbgrader(args: list[str], course: Path, env: dict | None = None, timeout: float | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` run in ``course`` with this environment's Python; GradingError with its log on failure."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ if env is None else env)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, timeout=timeout,
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        log = (done.stdout + done.stderr).strip().splitlines()
        raise GradingError(f"nbgrader {' '.join(args)} failed (exit {done.returncode}) in {course}:\n"
                           + "\n".join(log[-25:]))
    return done


def prepare_course(course: str | Path) -> Path:
    """The course folder, created with the repository's ``nbgrader_config.py`` if it has none yet."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    if not (course / CONFIG).is_file():
        shutil.copyfile(repository_config(), course / CONFIG)
    return course


def assignment_of(notebook: str | Path) -> str:
    """The assignment id of an instructor notebook: its file name without ``.ipynb``."""
    return Path(notebook).stem


def release(notebooks: list[str | Path], course: str | Path) -> list[Path]:
    """Release each instructor notebook as its own assignment; returns the released notebooks.

    Copies it to ``source/<id>/<id>.ipynb`` and runs ``nbgrader generate_assignment
    <id> --create --force``; then checks that the release holds no solution or
    hidden-test text (:func:`posgen_lib.course.assign.find_leaks`).
    """
    course = prepare_course(course)
    released = []
    for path in find_notebooks(notebooks):
        name = assignment_of(path)
        source = course / "source" / name / f"{name}.ipynb"
        source.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, source)
        nbgrader(["generate_assignment", name, "--create", "--force"], course)
        out = course / "release" / name / f"{name}.ipynb"
        leaks = find_leaks(nbformat.read(out, as_version=4), nbformat.read(source, as_version=4), str(out))
        if leaks:
            raise GradingError(f"{out} leaks solution or hidden-test text; do not hand it out:\n" + "\n".join(leaks))
        released.append(out)
    return released


def _submissions(folder: Path, notebook: str) -> dict[str, Path]:
    """{student id: their notebook} from ``folder``: ``<student>.ipynb`` files or ``<student>/`` folders
    holding one notebook (``<student>/<notebook>.ipynb`` preferred when there are several)."""
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            student, path = entry.stem, entry
        elif entry.is_dir():
            candidates = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            named = [p for p in candidates if p.name == notebook]
            if not candidates:
                continue
            if len(candidates) > 1 and not named:
                raise GradingError(f"{entry} holds several notebooks and none is named {notebook}; "
                                   "leave one notebook per student")
            student, path = entry.name, (named or candidates)[0]
        else:
            continue
        if not STUDENT_ID.match(student):
            raise GradingError(f"{entry}: {student!r} is not a usable student id (letters, digits, _ . @ -)")
        found[student] = path
    return found


@dataclass
class Collected:
    student: str
    path: Path  # where the submission now is, in the course folder
    status: str  # "collected", "updated" or "kept (already collected; --force replaces it)"


def collect(assignment: str, submissions: str | Path, course: str | Path, force: bool = False) -> list[Collected]:
    """Copy every student's notebook from ``submissions`` into ``submitted/<student>/<assignment>/``."""
    course, submissions = prepare_course(course), Path(submissions)
    if not (course / "source" / assignment).is_dir():
        raise GradingError(f"no assignment {assignment!r} in {course}/source: release it first "
                           f"(posgen assign release notebooks/{assignment}.ipynb)")
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder of submissions (<student>.ipynb or <student>/...)")
    notebook = f"{assignment}.ipynb"
    found = _submissions(submissions, notebook)
    if not found:
        raise GradingError(f"no notebook in {submissions}: expected <student>.ipynb or <student>/{notebook}")
    out = []
    for student, path in found.items():
        try:
            nbformat.read(path, as_version=4)
        except Exception as err:  # nbformat raises several unrelated types for bad JSON
            raise GradingError(f"{path}: not a readable notebook ({err})") from None
        folder = course / "submitted" / student / assignment
        target = folder / notebook
        if target.exists() and not force:
            out.append(Collected(student, target, "kept (already collected; --force replaces it)"))
            continue
        status = "updated" if target.exists() else "collected"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        stamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
        (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        out.append(Collected(student, target, status))
    return out


def autograde(assignment: str, course: str | Path, students: list[str] | None = None, fast: bool = True,
              force: bool = False) -> subprocess.CompletedProcess:
    """``nbgrader autograde`` every collected submission (or ``students``), with ``POSGEN_FAST=1``
    unless ``fast`` is False; the results go to the gradebook and ``autograded/``."""
    course = prepare_course(course)
    if not any((course / "submitted").glob(f"*/{assignment}")):
        raise GradingError(f"no submission of {assignment!r} in {course}/submitted: collect them first "
                           f"(posgen assign collect {assignment} SUBMISSIONS)")
    env = dict(os.environ, POSGEN_FAST="1" if fast else "0")
    args = ["autograde", assignment, "--create"] + (["--force"] if force else [])
    if students:
        done = None
        for student in students:
            done = nbgrader(args + ["--student", student], course, env)
        return done
    return nbgrader(args, course, env)


@dataclass
class ExerciseScore:
    name: str  # the grade cell's grade_id
    score: float
    max_score: float
    needs_manual_grade: bool


@dataclass
class StudentScore:
    student: str
    score: float
    max_score: float
    needs_manual_grade: bool
    exercises: list[ExerciseScore] = field(default_factory=list)

    def line(self) -> str:
        manual = sum(e.needs_manual_grade for e in self.exercises)
        todo = f"; {manual} answers to grade by hand (formgrader)" if manual else ""
        return f"{self.student:<16} {self.score:g} / {self.max_score:g}{todo}"


def scores(assignment: str, course: str | Path) -> list[StudentScore]:
    """Every graded submission of ``assignment`` in the course's gradebook, with its exercises."""
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course)
    database = course / "gradebook.db"
    if not database.is_file():
        raise GradingError(f"{database} does not exist: release and autograde an assignment first")
    out = []
    with Gradebook(f"sqlite:///{database.resolve()}") as gradebook:
        try:
            submissions = gradebook.find_assignment(assignment).submissions
        except MissingEntry:
            raise GradingError(f"the gradebook has no assignment {assignment!r}") from None
        for sub in sorted(submissions, key=lambda s: s.student.id):
            exercises = [ExerciseScore(g.name, g.score, g.max_score, g.needs_manual_grade)
                         for nb in sub.notebooks for g in sorted(nb.grades, key=lambda g: g.name)]
            out.append(StudentScore(sub.student.id, sub.score, sub.max_score, sub.needs_manual_grade, exercises))
    return out


def feedback(assignment: str, course: str | Path, force: bool = False) -> list[Path]:
    """``nbgrader generate_feedback``: one HTML page per graded student in ``feedback/<student>/<assignment>/``."""
    course = prepare_course(course)
    if not any((course / "autograded").glob(f"*/{assignment}")):
        raise GradingError(f"nothing of {assignment!r} is autograded in {course}: run posgen assign autograde first")
    nbgrader(["generate_feedback", assignment] + (["--force"] if force else []), course)
    return sorted((course / "feedback").glob(f"*/{assignment}/*.html"))

"""Student copies of the course notebooks, leak checks, and the exercise checker.

``posgen assign COMMAND``:

``student SRC OUT``          write student copies of the notebooks in SRC (a folder or
                             notebooks) to OUT, then verify them (``--check``: only verify
                             an existing OUT against SRC, write nothing)
``run NOTEBOOK... [--student]``  run each exercise in a fresh namespace and report
                             pass/fail; ``--student`` runs the student version instead and
                             expects every exercise to FAIL (its stubs raise)
``grade SUBMISSION SOURCE``  grade a student's notebook against the instructor's
                             (hidden tests included); prints points

The student version is made by nbgrader's own preprocessors, in the order of
``nbgrader generate_assignment`` minus the steps that need a course database
(``SaveCells``) or extra configuration (headers, ``InstantiateTests``):
``LockCells``, ``ClearSolutions``, ``ClearOutput``, ``CheckCellMetadata``,
``ComputeChecksums``, ``ClearHiddenTests``, ``ClearMarkScheme``,
``ComputeChecksums``, ``CheckCellMetadata``. The copies therefore carry the
checksums and locks that ``nbgrader autograde`` expects.

A build never overwrites the instructor's notebooks (:func:`check_student_target`):
OUT may not be SRC, lie inside SRC, or put a student copy where a source notebook
or another instructor notebook (one with solution or hidden-test markers) is.

A build leaks when a student copy contains a solution or hidden-test marker,
or any line (also as part of a longer line) that the instructor's notebook has
only inside a solution or hidden-test region (:func:`find_leaks`).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from ..errors import UserError
from .nbclean import find_notebooks, load_notebook

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
SECRET_REGIONS = {"BEGIN SOLUTION": "END SOLUTION", "BEGIN HIDDEN TESTS": "END HIDDEN TESTS",
                  "BEGIN MARK SCHEME": "END MARK SCHEME"}  # begin marker -> end marker


def _nbgrader():
    """nbgrader's preprocessors, or an ImportError saying how to install them."""
    try:
        from nbgrader import preprocessors
        from nbgrader.nbgraderformat import MetadataValidator, ValidationError
    except ImportError:
        raise ImportError("student copies need nbgrader: pip install -e '.[instructor]' "
                          "(make test installs it)") from None
    return preprocessors, MetadataValidator, ValidationError


def student_version(nb, name: str = "notebook"):
    """A student copy of ``nb`` (a new NotebookNode) made by nbgrader's preprocessors."""
    pre, MetadataValidator, ValidationError = _nbgrader()
    nb = nbformat.from_dict(nb)  # a deep copy
    nb.metadata.setdefault("kernelspec", {}).setdefault("language", "python")
    try:
        MetadataValidator().validate_nb(nb)
    except ValidationError as err:
        raise ValueError(f"{name}: invalid nbgrader metadata: {err}") from None
    steps = (pre.LockCells, pre.ClearSolutions, pre.ClearOutput, pre.CheckCellMetadata,
             pre.ComputeChecksums, pre.ClearHiddenTests, pre.ClearMarkScheme,
             pre.ComputeChecksums, pre.CheckCellMetadata)
    resources: dict = {}
    for step in steps:
        try:
            nb, resources = step().preprocess(nb, resources)
        except RuntimeError as err:  # unbalanced markers, regions outside nbgrader cells
            raise ValueError(f"{name}: {err}; see docs/teaching.md on exercise cells") from None
    return nb


def _texts(cell) -> list[str]:
    """The source and any textual output of a cell."""
    texts = [cell.source]
    for out in cell.get("outputs", []):
        texts.append(out.get("text", ""))
        texts += [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return [t if isinstance(t, str) else "".join(t) for t in texts]


def secret_lines(source_nb) -> set[str]:
    """Stripped lines of the solution / hidden-test regions of the instructor's notebook.

    Lines that occur anywhere in its public text (outside those regions, or in
    nbgrader's stubs) are left out, so a clean student copy never contains one.
    """
    secret, public = set(), []
    for cell in source_nb.cells:
        whole_cell_secret = (cell.metadata.get("nbgrader", {}).get("solution")
                             and not any(begin in cell.source for begin in SECRET_REGIONS))
        end = None  # the end marker of the region we are in
        for line in cell.source.splitlines():
            begin = next((b for b in SECRET_REGIONS if b in line), None)
            if end is None and begin:
                end = SECRET_REGIONS[begin]
            elif end is not None and end in line:
                end = None
            elif end or whole_cell_secret:
                secret.add(line.strip())
            else:
                public.append(line)
        public += _texts(cell)[1:]
    pre, _, _ = _nbgrader()
    public += list(pre.ClearSolutions().code_stub.values()) + [pre.ClearSolutions().text_stub]
    public_text = "\n".join(public)
    return {line for line in secret if line and line not in public_text}


def find_leaks(student_nb, source_nb, name: str = "notebook") -> list[str]:
    """Problems of a student copy: markers, or (parts of lines) with solution / hidden-test text."""
    secrets = secret_lines(source_nb)
    leaks = []
    for index, cell in enumerate(student_nb.cells):
        for text in _texts(cell):
            leaks += [f"{name} cell {index}: marker {m!r}" for m in MARKERS if m in text]
            leaks += [f"{name} cell {index}: solution/hidden-test text {secret!r}"
                      for line in text.splitlines() for secret in secrets if secret in line]
    return leaks


def _student_path(src: Path, out: Path, notebook: Path) -> Path:
    """Where the student copy of ``notebook`` (found under ``src``) goes in ``out``."""
    return out / (notebook.relative_to(src) if src.is_dir() else notebook.name)


def check_student_target(src: Path, out: Path, notebooks: list[Path]) -> None:
    """Refuse, before anything is written, an ``out`` whose student copies would replace the instructor's
    notebooks: ``out`` equal to the ``src`` folder or inside it, a copy landing on a source notebook, or on
    an existing notebook with solution or hidden-test markers (another instructor copy)."""
    if src.is_dir() and out.resolve().is_relative_to(src.resolve()):
        raise UserError(f"OUT {out} is the instructor folder SRC {src} or inside it: the student copies would "
                        "overwrite or mix with the instructor's notebooks; choose a folder outside it, e.g. "
                        "build/student")
    sources = {path.resolve() for path in notebooks}
    for path in notebooks:
        target = _student_path(src, out, path)
        if target.resolve() in sources:
            raise UserError(f"the student copy of {path} would overwrite the instructor notebook {target}; "
                            "choose an OUT folder apart from SRC, e.g. build/student")
        if target.is_file() and any(marker in target.read_text(errors="replace") for marker in MARKERS):
            raise UserError(f"{target} is an instructor notebook (it has solution or hidden-test markers); "
                            "student copies never replace one: choose another OUT folder")


def build_student(src: str | Path, out: str | Path) -> list[Path]:
    """Write a student copy of every notebook under ``src`` to ``out`` (same relative paths); refuses an
    ``out`` that would overwrite the instructor's notebooks (:func:`check_student_target`)."""
    src, out = Path(src), Path(out)
    notebooks = find_notebooks([src])
    check_student_target(src, out, notebooks)
    written = []
    for path in notebooks:
        target = _student_path(src, out, path)
        nb = student_version(load_notebook(path), str(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    return written


def check_student(src: str | Path, out: str | Path) -> list[str]:
    """Every problem of the student copies in ``out`` of the notebooks under ``src``."""
    src, out = Path(src), Path(out)
    problems = []
    for path in find_notebooks([src]):
        target = _student_path(src, out, path)
        if not target.is_file():
            problems.append(f"{target}: missing student copy of {path}")
            continue
        problems += find_leaks(load_notebook(target), load_notebook(path),
                               str(target))
    return problems

"""``posgen assign``, ``posgen lab`` and ``posgen nbclean``: running, grading and keeping the course notebooks."""
from __future__ import annotations

import importlib.util
import os
import sys


def add(sub) -> None:
    assign = sub.add_parser("assign", help="student copies and exercise checks (docs/teaching.md)",
                            description="Build and verify student copies of the notebooks, run every "
                                        "exercise, or grade a submission.")
    actions = assign.add_subparsers(dest="assign_command", required=True, metavar="ACTION",
                                    parser_class=type(assign))
    student = actions.add_parser("student", help="write and verify student copies")
    student.add_argument("src", help="instructor notebooks (folder or .ipynb)")
    student.add_argument("out", help="output folder, e.g. build/student")
    student.add_argument("--check", action="store_true", help="only verify existing copies in OUT")
    student.set_defaults(func=run_student)
    check = actions.add_parser("run", help="run every exercise in a fresh namespace")
    check.add_argument("notebooks", nargs="+", help="notebooks or folders")
    check.add_argument("--student", action="store_true", help="run the student version; expect failures")
    check.set_defaults(func=run_exercises)
    grade = actions.add_parser("grade", help="grade a submission against the instructor's notebook")
    grade.add_argument("submission")
    grade.add_argument("source")
    grade.set_defaults(func=run_grade)

    lab = sub.add_parser("lab", help="JupyterLab on the course notebooks (make lab; make lab-instructor)",
                         description="Start JupyterLab with this environment's Python, rooted at the "
                                     "repository and opened on notebooks/, without nbgrader's instructor "
                                     "tools unless --instructor. Any other arguments (e.g. --no-browser "
                                     "--port 8890) go to JupyterLab.")
    lab.add_argument("--instructor", action="store_true",
                     help="with nbgrader's assignment toolbar, formgrader and course panels")
    lab.set_defaults(func=run_lab, passthrough=True)

    clean = sub.add_parser("nbclean", help="strip notebooks to their committed form",
                           description="Remove volatile metadata and outputs that must not be committed; "
                                       "--check changes nothing and exits 1 if a notebook is not clean.")
    clean.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of notebooks")
    clean.add_argument("--check", action="store_true", help="change nothing; exit 1 if any notebook is not clean")
    clean.set_defaults(func=run_nbclean)


def run_student(args) -> int:
    from ..course.assign import build_student, check_student

    if not args.check:
        written = build_student(args.src, args.out)
        print(f"wrote {len(written)} student notebooks to {args.out}")
    problems = check_student(args.src, args.out)
    for problem in problems:
        print(f"LEAK  {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"student copies in {args.out}: no solution or hidden test found")
    return 0


def run_exercises(args) -> int:
    import nbformat

    from ..course.assign import student_version
    from ..course.exercises import find_exercises, run_exercises as run_all
    from ..course.nbclean import find_notebooks

    failed = 0
    for path in find_notebooks(args.notebooks):
        nb = nbformat.read(path, as_version=4)
        if not find_exercises(nb, str(path)):
            continue
        results = run_all(student_version(nb, str(path)) if args.student else nb, folder=path.parent)
        for result in results:
            wrong = result.passed if args.student else not result.passed
            failed += wrong
            verdict = "(should fail: the stub passes!) " if args.student and result.passed else ""
            print(f"{path.name}: {verdict}{result}")
    return 1 if failed else 0


def run_grade(args) -> int:
    from ..course.exercises import grade_submission

    results = grade_submission(args.submission, args.source)
    for result in results:
        print(result)
    print(f"total: {sum(r.points for r in results):g} / {sum(r.max_points for r in results):g}")
    return 0


def run_lab(args) -> int:
    from ..course.lab import lab_command, student_environment

    command = lab_command(extra=args.passthrough_args, instructor=args.instructor)
    env = os.environ.copy() if args.instructor else student_environment()
    if importlib.util.find_spec("jupyterlab") is None:
        raise ValueError("JupyterLab is not installed in this environment; run `make lab` "
                         "(it installs the notebooks extra) or pip install -e '.[notebooks]'")
    os.execve(command[0], command, env)  # Jupyter owns the terminal from here (Ctrl-C to stop)
    return 0  # not reached


def run_nbclean(args) -> int:
    import nbformat

    from ..course.nbclean import SIZE_BUDGET, clean_file, find_notebooks, unexecuted_cells

    notebooks = find_notebooks(args.paths)
    results = [(path, *clean_file(path, write=not args.check)) for path in notebooks]
    for _, _, warnings in results:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    changed = [path for path, was_changed, _ in results if was_changed]
    if args.check:
        problems = [f"  {path}: volatile metadata or widget views (run `make clean-notebooks`)" for path in changed]
        for path in notebooks:
            missing = unexecuted_cells(nbformat.read(path, as_version=4))
            if missing:
                problems.append(f"  {path}: code cells {missing[:6]} were never run; commit the outputs of a "
                                "full run (docs/teaching.md)")
        total = sum(path.stat().st_size for path in notebooks)
        if total > SIZE_BUDGET:
            problems.append(f"  the notebooks take {total:,} bytes, over the budget of {SIZE_BUDGET:,}; "
                            "shrink their figures")
        if problems:
            print("notebooks not in their committed form:\n" + "\n".join(problems))
            return 1
        print(f"{len(notebooks)} notebooks clean ({total:,} bytes)")
        return 0
    print("\n".join(f"cleaned {path}" for path in changed) or f"{len(notebooks)} notebooks already clean")
    return 0

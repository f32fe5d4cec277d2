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

    # nbgrader's loop on a course folder (posgen_lib/course/grading.py, docs/teaching.md "Grading")
    course_help = "the course folder (default: course); never commit it, it holds students' work and grades"
    release = actions.add_parser("release", help="release notebooks as nbgrader assignments (student copies)")
    release.add_argument("notebooks", nargs="+", help="instructor notebooks or folders, e.g. notebooks/06_*.ipynb")
    release.add_argument("--course", default="course", help=course_help)
    release.set_defaults(func=run_release)
    collect = actions.add_parser("collect", help="collect submissions into the course folder")
    collect.add_argument("assignment", help="the assignment id, e.g. 06_resolution_upscaling")
    collect.add_argument("submissions", help="a folder of <student>.ipynb files or <student>/ folders")
    collect.add_argument("--course", default="course", help=course_help)
    collect.add_argument("--force", action="store_true", help="replace submissions collected before")
    collect.set_defaults(func=run_collect)
    autograde = actions.add_parser("autograde", help="run and grade the collected submissions (nbgrader)")
    autograde.add_argument("assignment")
    autograde.add_argument("--student", action="append", help="only this student (repeatable)")
    autograde.add_argument("--course", default="course", help=course_help)
    autograde.add_argument("--full", action="store_true", help="run with the full budgets (default: POSGEN_FAST=1)")
    autograde.add_argument("--force", action="store_true", help="grade again what was autograded before")
    autograde.set_defaults(func=run_autograde)
    scores = actions.add_parser("scores", help="print the gradebook's scores of an assignment")
    scores.add_argument("assignment")
    scores.add_argument("--course", default="course", help=course_help)
    scores.set_defaults(func=run_scores)
    feedback = actions.add_parser("feedback", help="write each student's feedback page (HTML)")
    feedback.add_argument("assignment")
    feedback.add_argument("--course", default="course", help=course_help)
    feedback.add_argument("--force", action="store_true", help="write pages written before again")
    feedback.set_defaults(func=run_feedback)

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
    from ..course.assign import student_version
    from ..course.exercises import find_exercises, run_exercises as run_all
    from ..course.nbclean import find_notebooks, load_notebook

    failed = 0
    for path in find_notebooks(args.notebooks):
        nb = load_notebook(path)
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


def _print_scores(assignment: str, course: str) -> None:
    from ..course.grading import scores

    rows = scores(assignment, course)
    print(f"{assignment}: {len(rows)} graded submissions (autograded points; answers graded by hand count 0 "
          "until graded)")
    for row in rows:
        print("  " + row.line())


def run_release(args) -> int:
    from ..course.grading import release

    for path in release(args.notebooks, args.course):
        print(f"released {path} (no solution or hidden test in it)")
    return 0


def run_collect(args) -> int:
    from ..course.grading import collect

    for item in collect(args.assignment, args.submissions, args.course, force=args.force):
        print(f"{item.status:>9}  {item.student}: {item.path}")
    return 0


def run_autograde(args) -> int:
    from ..course.grading import autograde

    autograde(args.assignment, args.course, students=args.student, fast=not args.full, force=args.force)
    _print_scores(args.assignment, args.course)
    return 0


def run_scores(args) -> int:
    _print_scores(args.assignment, args.course)
    return 0


def run_feedback(args) -> int:
    from ..course.grading import feedback

    pages = feedback(args.assignment, args.course, force=args.force)
    print("\n".join(f"wrote {page}" for page in pages) or "no feedback page written")
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

    from ..course.nbclean import SIZE_BUDGET, clean_file, find_notebooks, output_problems, unexecuted_cells

    notebooks = find_notebooks(args.paths)
    results = [(path, *clean_file(path, write=not args.check)) for path in notebooks]
    for _, _, warnings in results:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    changed = [path for path, was_changed, _ in results if was_changed]
    if args.check:
        problems = [f"  {path}: volatile metadata or widget views (run `make clean-notebooks`)" for path in changed]
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            missing = unexecuted_cells(nb)
            if missing:
                problems.append(f"  {path}: code cells {missing[:6]} were never run; commit the outputs of a "
                                "full run (docs/teaching.md)")
            problems += [f"  {problem}" for problem in output_problems(nb, str(path))]
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

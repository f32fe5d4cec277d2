"""nbgrader's settings for the PosGen course (docs/teaching.md, "Grading").

`posgen assign release` copies this file into the course folder (default `course/`) the
first time, and every nbgrader command run there reads it: `posgen assign autograde`, or
`cd course && nbgrader ...` by hand. Edit the course folder's copy to change one course.
"""
c = get_config()  # noqa: F821 - nbgrader's config loader provides get_config

c.CourseDirectory.course_id = "posgen"

# Autograde runs each submission top to bottom with POSGEN_FAST=1 (`posgen assign autograde`
# sets it): tiny training budgets, so the slowest cell of any notebook (an evaluation or a
# 3-step training) takes well under a minute on two busy CPU cores. nbgrader's default of
# 30 s per cell is too tight for that; 240 s leaves room for a loaded grading machine while
# still stopping a student's endless loop. A full-budget run (`--full`) needs `--Execute.timeout=1800`.
c.Execute.timeout = 240
c.Execute.startup_timeout = 120  # starting a kernel that imports torch on a busy machine

# Only the notebook is an assignment's file; anything else in a student's folder (models a
# notebook trained before POSGEN_CKPT_DIR existed, editor state) is not copied around.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "__pycache__", "*.pyc", "checkpoints", "*.pt"]

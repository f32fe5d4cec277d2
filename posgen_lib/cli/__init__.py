"""The ``posgen`` command line: one entry point for everything a user runs.

    posgen demo                                   train PosGen on the synthetic streets (CPU), write outputs/demo/
    posgen train --preset synthetic --out runs/x  train with SPADE's recipe (torchrun for many GPUs)
    posgen render MODEL LABEL.png --scale 4 --out big.png   render at any scale, size or window
    posgen eval MODEL --scales 1,2,4              mIoU, SegFD, FID/KID, PSNR/SSIM per scale and method
    posgen experiment --out docs                  the upscaling experiment behind docs/results.md
    posgen bench                                  speed and memory ratios (docs/benchmarks.md)
    posgen data check|prepare|gallery             datasets
    posgen segmenter train|eval                   the synthetic-streets segmenter that scores mIoU
    posgen pretrained list|build                  the models shipped with the package
    posgen assign student|run|grade               course exercises (docs/teaching.md)
    posgen lab [--instructor]                     JupyterLab on the course notebooks
    posgen nbclean [--check] notebooks            strip notebooks to their committed form

Every error a user can cause is printed as one line (``posgen CMD: error:
...``) naming the argument or file and the fix, with exit status 2. A
traceback appears only with ``--debug`` (or ``POSGEN_DEBUG=1``). Each command
module imports the library inside its command function, so ``posgen --help``
answers without loading torch's heavier companions.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import Interrupted, UserError, disk_error
from . import bench, course, data, demo, eval, experiment, pretrained, render, segmenter, train
from .args import Parser

COMMANDS = (demo, train, render, eval, experiment, bench, data, segmenter, pretrained, course)


def build_parser() -> Parser:
    parser = Parser(prog="posgen",
                    description="PosGen: semantic image synthesis with a per-pixel, any-resolution head. "
                                "Start with `posgen demo`.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also POSGEN_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for module in COMMANDS:
        module.add(sub)
    return parser


# What to try when a command runs out of memory, by command (render has no --batch).
MEMORY_HINTS = {"render": "lower --scale or --size, or render a --window",
                "train": "lower --batch (or the preset's image size)",
                "eval": "lower --count or --scales"}
# How to continue a long job that Ctrl-C or SIGTERM stopped after saving, by command.
RESUME_HINTS = {"train": "continue it by rerunning the same command with --resume",
                "demo": "a demo starts afresh each time: rerun it when you have the time",
                "experiment": "rerun the same command: it continues the cached runs",
                "pretrained": "rerun the same command: it continues the runs in --runs"}


def shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit - 1) + 1 or limit - 1].rstrip() + " ..."


def worker_message(text: str) -> str:
    """The original message of an error re-raised from a DataLoader worker (the last line of the worker's
    traceback, without its exception name), or ``text`` itself."""
    if "Original Traceback" not in text:
        return text
    last = text.strip().splitlines()[-1]
    return last.split(": ", 1)[1] if ": " in last and last.split(": ", 1)[0].isidentifier() else last


def dangling_link(path: str) -> str | None:
    """The message for ``path`` (or a folder above it) being a symbolic link to nothing, or None."""
    for part in (Path(path), *Path(path).parents):
        if part.is_symlink() and not part.exists():
            return (f"{part} is a symbolic link to {os.readlink(part)}, which does not exist; create its "
                    "target or choose another output")
    return None


def user_message(err: BaseException, command: str = "") -> str | None:
    """The one-line message for an error the user can cause, or None for a bug."""
    if isinstance(err, OSError):
        problem = disk_error(err, err.filename or "the output")
        if problem is not None:
            return str(problem)
        if isinstance(err, FileExistsError) and err.filename and dangling_link(err.filename):
            return dangling_link(err.filename)
        if err.filename is not None:
            return f"{err.strerror or err}: {err.filename}"
    if isinstance(err, (UserError, ValueError, FileNotFoundError)):
        return worker_message(str(err)).strip().replace("\n", "; ")
    if isinstance(err, RuntimeError) and "can't allocate memory" in str(err):
        hint = MEMORY_HINTS.get(command, "use smaller settings")
        return f"out of memory: {hint} ({shorten(str(err).splitlines()[0], 120)})"
    return None


def parse(argv: list[str] | None = None):
    """Parsed arguments; commands that hand arguments on (``lab``) get the rest as ``passthrough_args``."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.passthrough_args = rest
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    debug = args.debug or os.environ.get("POSGEN_DEBUG", "") not in ("", "0")
    where = f"posgen {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except Interrupted as stop:
        hint = RESUME_HINTS.get(args.command)
        print(f"{where}: {stop}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 128 + int(stop.signum)
    except Exception as err:
        if debug:
            raise
        message = user_message(err, args.command)
        if message is not None:
            print(f"{where}: error: {message}", file=sys.stderr)
            return 2
        first = shorten((str(err).strip().splitlines() or [""])[0])
        print(f"{where}: internal error ({type(err).__name__}: {first}); rerun with --debug for the "
              "traceback and please report it", file=sys.stderr)
        return 1

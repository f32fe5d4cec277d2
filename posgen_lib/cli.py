"""The ``posgen`` command line.

    posgen data check DIR --dataset cityscapes|coco_stuff   validate a dataset folder
    posgen data prepare ...                                 build the layout from downloaded archives

Every user error is printed as one line (``posgen: error: ...``), not a traceback.
"""
from __future__ import annotations

import argparse
import sys


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posgen",
        description="PosGen: semantic image synthesis with a per-pixel, any-resolution head.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from .data import prepare

    prepare.add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, ValueError) as err:
        print(f"posgen: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("posgen: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Argument types for the ``posgen`` command line: every number is range-checked at parse time.

A bad value is reported by argparse as one line naming the option, e.g.
``posgen train: error: argument --ema: must be in [0, 1), got 5``.
"""
from __future__ import annotations

import argparse
import math
import re


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (``posgen train: error: ...``) instead of usage + error,
    and a value such as ``-1,-1,0,0`` (a window) is a value, not an unknown option."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+(,[-+\d.eE]*)+$")

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _number(text: str, kind=float):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def in_range(low: float, high: float, low_open: bool = False, high_open: bool = False, kind=float):
    """A type that accepts finite numbers in [low, high] (``*_open``: that end excluded)."""
    def check(text: str):
        value = _number(text, kind)
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not ok:
            lo, hi = ("(" if low_open else "[") + f"{low:g}", f"{high:g}" + (")" if high_open else "]")
            raise argparse.ArgumentTypeError(f"must be in {lo}, {hi}, got {text}")
        return value
    return check


def size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW like 256x512, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return h, w


def window(text: str) -> tuple[float, float, float, float]:
    from ..rendering.render import check_window  # light: rendering imports no heavy module

    try:
        values = tuple(float(v) for v in text.split(","))
        return check_window(values)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected x0,y0,x1,y1 within [-1, 1] like -1,-1,0,0, got {text!r} "
                                         f"({err})") from None


def scales(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected scales like 1,2,3.3,4, got {text!r}") from None
    if not values or not all(math.isfinite(v) and 1 <= v <= 16 for v in values):
        raise argparse.ArgumentTypeError(f"scales must be finite and in [1, 16], got {text!r}")
    return values

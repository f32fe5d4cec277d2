"""Building wrong solution cells for tests/wrong_answers: a function's def line and docstring, then a body."""
from __future__ import annotations

from typing import Callable


def function_cell(header: str) -> Callable[[str], str]:
    """A maker of solution cells for one exercise: ``make(body)`` is ``header`` followed by ``body`` indented
    as the function's body."""
    def make(body: str) -> str:
        lines = body.strip("\n").splitlines()
        return header.strip("\n") + "\n" + "\n".join("    " + line if line else line for line in lines) + "\n"
    return make

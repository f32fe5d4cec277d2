"""Generated records inside hand-written pages: ``docs/benchmarks.md``, ``docs/results.md`` and the recipe
table of ``docs/training.md`` each hold a block a command rewrites, between two HTML comments, and prose
around it that the command keeps."""
from __future__ import annotations

from pathlib import Path


def write_record(path: Path, record: str, begin: str, end: str) -> Path:
    """Put ``record`` between the ``begin``/``end`` markers of ``path``, keeping the prose
    around them (a new file holds just the marked record)."""
    block = f"{begin}\n{record}\n{end}"
    text = path.read_text() if path.is_file() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path

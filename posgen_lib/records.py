"""What commands write: whole files atomically, generated blocks only between their markers.

The rule (docs/architecture.md, *What a command may write*): a command writes
and deletes only what it created, inside its own output; a hand-written page
changes only between the markers of its generated block; nothing is half
written. This module holds the three mechanisms every command uses:

* :func:`atomic_write`: the bytes go to a temporary file in the same folder,
  are flushed to disk and renamed over the target, so a reader (or a
  ``kill -9``) sees the old file or the new one, never a part of one. A link
  at the target is replaced by the new file, never written through.
* :func:`check_output`: before any work, refuse an output that cannot be
  written (a folder where a file is expected, a link to nowhere, a read-only
  or unwritable folder), in one line naming the option.
* :func:`save_figure` / :func:`check_figure`: a picture a command draws is
  written atomically and signed in its PNG text ("Software: posgen"); an
  existing PNG without the signature at that place is a user's picture and
  is refused before any work.
* :func:`write_record` / :func:`check_record`: ``docs/benchmarks.md``,
  ``docs/results.md`` and the recipe table of ``docs/training.md`` each hold
  a block a command rewrites, between two HTML comments, and prose around it
  that the command keeps. An existing file without both markers is the user's
  own page: it is refused, never replaced (add the two marker lines where the
  block belongs, or write elsewhere).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import DiskError, UserError, disk_error


class _WriteErrors:
    """A binary file that remembers the OSError of a failed write.

    ``torch.save`` turns the ENOSPC of a write into a RuntimeError without an
    errno ("enforce fail at inline_container.cc ... unexpected pos"); writing
    through this wrapper keeps the real error, so a full disk is reported as such.
    """

    def __init__(self, file: BinaryIO):
        self.file, self.error = file, None

    def write(self, data) -> int:
        try:
            return self.file.write(data)
        except OSError as err:
            self.error = err
            raise

    def __getattr__(self, name):
        return getattr(self.file, name)


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write ``path`` through ``write(file)`` into a temporary file, flush it to disk, rename it over ``path``.

    A full, read-only or unwritable disk raises :class:`~posgen_lib.errors.DiskError`;
    ``path`` is then exactly what it was before and the temporary file is gone.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    sink = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            sink = _WriteErrors(f)
            write(sink)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        problem = disk_error(sink.error if sink is not None and sink.error else err, path)
        if problem is None:
            raise
        raise problem from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 text."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


SIGNATURE = "posgen"  # the PNG text "Software" of every picture a posgen command draws


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """:func:`atomic_write` of a matplotlib ``fig`` as a PNG signed with :data:`SIGNATURE`."""
    return atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, format="png", metadata={"Software": SIGNATURE}))


def check_figure(path: str | Path, option: str) -> Path:
    """Refuse, before any work, a picture ``path`` that exists and was not drawn by posgen (no
    :data:`SIGNATURE` in its PNG text): the command would replace somebody's file."""
    from PIL import Image

    path = check_output(path, option)
    if path.exists():
        try:
            with Image.open(path) as picture:
                ours = getattr(picture, "text", {}).get("Software") == SIGNATURE
        except OSError:
            ours = False
        if not ours:
            raise UserError(f"{path} exists and was not drawn by posgen, and {option} would replace it: move it, "
                            f"or write {option} elsewhere")
    return path


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists; a link to nowhere on the way is refused by the caller."""
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def check_output(path: str | Path, option: str = "--out", folder: bool = False) -> Path:
    """Refuse, before any work, an output ``path`` (a file, or a ``folder``) that cannot be written.

    One-line :class:`~posgen_lib.errors.UserError` naming ``option`` and the fix: a folder
    where a file is expected (or a file where a folder is), a name that is empty (``.``),
    a symbolic link to nowhere on the way, a file in place of a parent folder, a read-only
    or unwritable folder. Nothing is created.
    """
    path = Path(path)
    if not folder and (path.name in ("", ".", "..") or path.is_dir()):
        raise UserError(f"{option} {path} is a folder; give a file name inside it, e.g. {path / 'out.png'}")
    if folder and path.exists() and not path.is_dir():
        raise UserError(f"{option} {path} is a file; give a folder")
    existing = _nearest_existing(path.absolute())
    if existing.is_symlink() and not existing.exists():
        raise UserError(f"{option} {path}: {existing} is a symbolic link to {os.readlink(existing)}, which does "
                        "not exist; create its target or choose another " + option)
    parent = existing if existing.is_dir() else existing.parent
    if existing != path.absolute() and not existing.is_dir():
        raise UserError(f"{option} {path}: {existing} is a file, not a folder; choose another {option}")
    if not os.access(parent, os.W_OK | os.X_OK):
        if os.statvfs(parent).f_flag & os.ST_RDONLY:
            raise DiskError(f"{option} {path} is on a read-only file system; choose another {option}")
        raise DiskError(f"{option} {path}: no permission to write in {parent}; choose a folder you can write")
    return path


# ----- generated blocks between markers -------------------------------------------------------------

def _marked_parts(text: str, begin: str, end: str) -> tuple[str, str] | None:
    """(text before ``begin``, text after ``end``) when each marker occurs once, in order; else None."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        return None
    head, rest = text.split(begin, 1)
    return head, rest.split(end, 1)[1]


def _unmarked(path: Path, begin: str, end: str, fix: str) -> UserError:
    return UserError(f"{path} exists without the markers {begin} and {end} (once each, in this order), so it is "
                     f"not a page posgen generates; posgen writes its block only between them: add the two "
                     f"marker lines where the block belongs, or {fix}")


def check_record(path: str | Path, begin: str, end: str, option: str = "--out") -> Path:
    """Refuse, before any work, a ``path`` that :func:`write_record` could not write: unwritable, or an
    existing file without both markers (the user's own page)."""
    path = check_output(path, option)
    if path.is_file() and _marked_parts(path.read_text(), begin, end) is None:
        raise _unmarked(path, begin, end, f"choose another {option}")
    return path


def write_record(path: str | Path, record: str, begin: str, end: str) -> Path:
    """Put ``record`` between the ``begin``/``end`` markers of ``path``, keeping the prose around them.

    A new file holds just the marked record. An existing file without both markers is
    refused (:class:`~posgen_lib.errors.UserError`) and left as it is.
    """
    path = Path(path)
    block = f"{begin}\n{record}\n{end}"
    if not path.exists():
        return atomic_write_text(path, block + "\n")
    parts = _marked_parts(path.read_text(), begin, end)
    if parts is None:
        raise _unmarked(path, begin, end, "write the record to another file")
    return atomic_write_text(path, parts[0] + block + parts[1])

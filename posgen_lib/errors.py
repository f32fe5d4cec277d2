"""Errors a user can cause, and how they reach the user.

Everything a user can get wrong (an argument out of range, a missing file, a
damaged checkpoint, a run folder that belongs to another run, a full disk)
raises a :class:`UserError` (or a ``ValueError`` / ``FileNotFoundError`` from
the library's own argument checks) whose message names the argument or file
and the fix, in one line. The ``posgen`` command line prints that line and
exits with status 2 (:mod:`posgen_lib.cli`); a traceback appears only with
``--debug`` or ``POSGEN_DEBUG=1``.
"""
from __future__ import annotations

import errno
from pathlib import Path


class UserError(Exception):
    """A problem with the user's input or environment: printed as one line, exit status 2."""


class CheckpointError(UserError):
    """A checkpoint that cannot be used: unreadable, not ours, or for another model."""


class RunFolderError(UserError):
    """A training output folder that holds another run, or is being written by another process."""


class Interrupted(Exception):
    """A long job stopped by SIGINT/SIGTERM after saving what it needs to continue; the CLI exits 128 + signum."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


class DiskError(UserError):
    """Writing a file failed because the disk is full, read-only, or not writable."""


def disk_error(err: BaseException, path: str | Path) -> DiskError | None:
    """A :class:`DiskError` explaining ``err`` raised while writing ``path``, or None if it is not a disk problem.

    The problem is read from the error number. ``torch.save`` hides it (a full
    disk becomes a RuntimeError "enforce fail at inline_container.cc ..."), so
    :func:`posgen_lib.records.atomic_write` hands over the OSError of the write
    that failed instead.
    """
    code = getattr(err, "errno", None)
    if code == errno.ENOSPC:
        return DiskError(f"no space left on the disk holding {path}; free some space or write "
                         "somewhere else (--out); the previous checkpoint, if any, is intact")
    if code == errno.EDQUOT:
        return DiskError(f"disk quota exceeded writing {path}; free some space or write elsewhere")
    if code in (errno.EROFS,):
        return DiskError(f"{path} is on a read-only file system; choose another output folder (--out)")
    if code in (errno.EACCES, errno.EPERM):
        return DiskError(f"no permission to write {path}; choose a folder you can write (--out)")
    return None

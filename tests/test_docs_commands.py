"""Every command shown in README.md, docs/*.md and data/README.md runs, so a documented command cannot break.

Commands in fenced code blocks are run, in the order each page shows them, in a
scratch folder prepared like a newcomer's (downloads of a fabricated Cityscapes
in ``~/Downloads/cityscapes``, a label map, the course notebooks), with
``POSGEN_FAST=1`` budgets and the substitutions of :func:`adapt` (full-size
presets become ``tiny``, 8 GPUs become 2 CPU processes). ``make`` targets are
dry-run (``make -n``) in the repository. Commands that would overwrite the files
shipped in ``posgen_lib/assets`` or start a server are parsed, not run. Commands
quoted inline in the prose are parsed by the ``posgen`` argument parser, which
catches renamed commands and flags.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import posgen_lib as pg
from posgen_lib.cli import main, parse
from posgen_lib.data.fabricate import fabricate_tree, make_cityscapes, make_coco_stuff

from conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"^\s*(posgen|make|torchrun|\.venv/bin/posgen)\s")
PARSE_ONLY = ("posgen lab", "posgen pretrained build", "posgen segmenter train")  # a server; the shipped files


def block_commands(page: Path) -> list[str]:
    """Shell commands of the page's fenced code blocks (continuations joined, comments dropped)."""
    commands = []
    for block in re.findall(r"```(?:bash|console|sh)?\n(.*?)```", page.read_text(), flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if COMMAND.match(line):
                commands.append(line.split(" #")[0].strip())
    return commands


def inline_commands(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    found = re.findall(r"`((?:\.venv/bin/)?posgen [^`]+)`", text)
    return [c for c in found if not any(x in c for x in ("[", "|", "...", "CMD"))]


def adapt(command: str) -> tuple[str, list[str]]:
    """(how to run it, argv) for one documented command: "posgen", "torchrun", "make", "parse"."""
    argv = [Path(a).expanduser().as_posix() if a.startswith("~") else a for a in shlex.split(command)]
    if argv[0] == ".venv/bin/posgen":
        argv[0] = "posgen"
    if argv[0] == "make":
        return "make", argv
    if argv[0] == "torchrun":
        start = argv.index("-m") + 2  # torchrun OPTIONS -m posgen_lib.cli ARGS
        return "torchrun", ["--nproc-per-node", "2"] + [x for x in _small(argv[start:])]
    if " ".join(argv[:3]).startswith(PARSE_ONLY) or " ".join(argv[:2]) in PARSE_ONLY:
        return "parse", argv[1:]
    return "posgen", _small(argv[1:])


def _small(args: list[str]) -> list[str]:
    """Full-size presets -> tiny, epochs and steps -> 2 steps (the commands' own POSGEN_FAST budgets do the rest)."""
    out = []
    it = iter(args)
    for a in it:
        if a == "--preset":
            name = next(it)
            out += ["--preset", "tiny" if name in ("cityscapes", "coco_stuff") else name]
        elif a in ("--epochs", "--steps"):
            next(it)
            out += ["--steps", "2"]
        else:
            out.append(a)
    if out[:1] == ["train"] and "--steps" not in out:
        out += ["--steps", "2"]
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A newcomer's folder: Cityscapes downloads, a prepared COCO-Stuff, a CamVid copy beside it
    (``../shared/camvid``, fabricated), label maps, the notebooks, a submission."""
    root = tmp_path_factory.mktemp("newcomer")
    home = root / "home"
    tree = make_cityscapes(root / "tree")
    downloads = home / "Downloads" / "cityscapes"
    downloads.mkdir(parents=True)
    for archive, top in (("gtFine_trainvaltest.zip", "gtFine"), ("leftImg8bit_trainvaltest.zip", "leftImg8bit")):
        with zipfile.ZipFile(downloads / archive, "w") as zf:
            for path in (tree / top).rglob("*.png"):
                zf.write(path, path.relative_to(tree).as_posix())
    work = root / "work"
    make_coco_stuff(work / "data" / "coco_stuff")  # prepared by the reader (data/README.md)
    fabricate_tree(root / "shared", "camvid")  # ../shared/camvid from the working folder, as in the docs
    synthetic = pg.data.SyntheticStreets(size=(64, 128), length=1, split="test")[0]["label"]
    Image.fromarray(synthetic.numpy().astype(np.uint8)).save(work / "labels.png")
    tiny = pg.data.SyntheticStreets(size=(32, 64), length=1, split="test")[0]["label"]
    Image.fromarray(tiny.numpy().astype(np.uint8)).save(work / "some_labelIds.png")
    shutil.copytree(ROOT / "notebooks", work / "notebooks", ignore=shutil.ignore_patterns("checkpoints"))
    (work / "submitted").mkdir()
    shutil.copy(ROOT / "notebooks" / "06_resolution_upscaling.ipynb", work / "submitted")
    return work, home


def run(kind: str, argv: list[str], work: Path) -> None:
    env_note = f"{kind}: {' '.join(argv)}"
    if kind == "make":
        done = subprocess.run(["make", "-n", *argv[1:]], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"{env_note}\n{done.stderr}"
    elif kind == "parse":
        parse(argv)
    elif kind == "torchrun":
        done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", *argv[:2], "-m",
                               "posgen_lib.cli", *argv[2:]], cwd=work, capture_output=True, text=True,
                              timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(ROOT),
                                                "OMP_NUM_THREADS": "1"})
        assert done.returncode == 0, f"{env_note}\n{done.stderr[-3000:]}"
    else:
        assert main(argv) == 0, env_note


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_commands_in_code_blocks_run(page, workspace, monkeypatch):
    work, home = workspace
    commands = block_commands(page)
    if not commands:
        pytest.skip("no commands on this page")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    for command in commands:
        command = command.replace("NN_name", "06_resolution_upscaling")
        kind, argv = adapt(command)
        run(kind, argv, work)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_commands_quoted_in_the_text_parse(page):
    """A full command line must parse; a bare name such as `posgen eval` must name a command."""
    for command in inline_commands(page):
        argv = shlex.split(command)[1:]
        try:
            parse(argv)
        except SystemExit as stop:
            named = stop.code == 0
            if not named:
                try:
                    parse(argv + ["--help"])
                except SystemExit as help_stop:
                    named = help_stop.code == 0 and not any(a.startswith("-") for a in argv)
            assert named, f"{page.name}: `{command}` does not parse"


def test_the_readme_shows_both_set_up_commands():
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    assert set(block_commands(ROOT / "README.md")) >= {"make demo", "make test"}

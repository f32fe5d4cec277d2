"""Packaging consistency: environment.yml mirrors pyproject.toml; the CI entry point."""
from __future__ import annotations

import re
import tomllib

from conftest import ROOT

CONDA_TO_PIP = {"pytorch": "torch"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_requirements() -> set[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = {_split(r) for r in project["dependencies"]}
    for extra, items in project["optional-dependencies"].items():
        reqs |= {_split(r) for r in items if not r.startswith("posgen-lib")}
    return reqs


def environment_requirements() -> tuple[set[tuple[str, str]], list[str], list[str]]:
    conda, pip, channels, section = set(), [], [], None
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if not line.startswith(" "):
            section = stripped.rstrip(":")
        elif section == "channels":
            channels.append(stripped.strip(" -"))
        elif section == "dependencies":
            item = stripped.strip()[2:].strip()
            if line.startswith("      - "):
                pip.append(item)
            elif item not in ("pip", "pip:") and not item.startswith("python="):
                name, spec = _split(item)
                conda.add((CONDA_TO_PIP.get(name, name), spec))
    return conda, pip, channels


def test_environment_yml_lists_the_same_packages_as_pyproject():
    conda, pip, channels = environment_requirements()
    assert channels == ["conda-forge"]
    assert "-e ." in pip, "environment.yml must install the package itself with pip"
    from_env = conda | {_split(p) for p in pip if p != "-e ."}
    assert from_env == pyproject_requirements()


def test_ci_runs_make_test_then_the_browser_test():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [ln for ln in script.splitlines() if ln.strip() and not ln.startswith("#")
                and not ln.startswith(("set ", "cd "))]
    assert commands == ["make test", "make test-browser"]  # Chromium from the OS packages (Makefile)

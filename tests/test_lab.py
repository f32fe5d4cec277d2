"""`make lab` smoke test: JupyterLab starts headless, serves /lab, and loads the widgets extension."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("jupyterlab", reason="install the notebooks extra: pip install -e '.[notebooks]'")

from posgen_lib.course import lab  # noqa: E402

WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_lab_command_roots_at_the_repository_and_opens_notebooks():
    argv = lab.lab_command(extra=["--no-browser"], instructor=True)
    root = lab.repository_root()
    assert (root / "notebooks").is_dir()
    assert f"--ServerApp.root_dir={root}" in argv and argv[-1] == "--no-browser"
    assert "--LabApp.default_url=/lab/tree/notebooks" in argv
    assert ("--allow-root" in argv) == lab.is_root()


def test_student_lab_roots_at_student_copies_and_keeps_a_students_work(tmp_path):
    pytest.importorskip("nbgrader", reason="student copies need the instructor extra")
    import nbformat

    source = tmp_path / "notebooks"
    source.mkdir()
    instructor = nbformat.read(lab.repository_root() / "notebooks" / "02_spade_blocks.ipynb", as_version=4)
    nbformat.write(instructor, source / "02_spade_blocks.ipynb")
    workspace = lab.student_workspace(source, tmp_path / "student")
    copy = (workspace / "02_spade_blocks.ipynb").read_text()
    assert "BEGIN SOLUTION" not in copy and "BEGIN HIDDEN TESTS" not in copy and "YOUR CODE HERE" in copy
    (workspace / "02_spade_blocks.ipynb").write_text(copy.replace("YOUR CODE HERE", "my own work"))
    lab.student_workspace(source, tmp_path / "student")  # a second start keeps the student's copy
    assert "my own work" in (workspace / "02_spade_blocks.ipynb").read_text()
    argv = lab.lab_command(workspace, ["--no-browser"])
    assert f"--ServerApp.root_dir={workspace}" in argv and "--LabApp.default_url=/lab" in argv
    assert not list(workspace.glob("**/*instructor*")) and sorted(p.name for p in workspace.iterdir()) == \
        ["02_spade_blocks.ipynb"], "only student copies are reachable from the student lab"


@pytest.fixture(params=["student", "instructor"])
def server(tmp_path, request):
    """A headless student or instructor JupyterLab on a free localhost port; always stopped afterwards."""
    port, token = free_port(), secrets.token_hex(16)
    instructor = request.param == "instructor"
    root = lab.repository_root() if instructor else tmp_path / "student"  # students: their copies only
    root.mkdir(exist_ok=True)
    argv = lab.lab_command(root, extra=["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                        f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"],
                           instructor=instructor)
    base_env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    if instructor:
        env = {**base_env, "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    else:
        env = lab.student_environment(base_env, tmp_path / "config")
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        yield f"http://127.0.0.1:{port}", token, process, tmp_path / "lab.log", instructor
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_lab_serves_widgets_and_hides_nbgrader_from_students(server):
    base, token, process, log, instructor = server
    deadline = time.monotonic() + START_TIMEOUT_S
    status, page = 0, ""
    while time.monotonic() < deadline and process.poll() is None:
        try:
            status, page = get(f"{base}/lab?token={token}")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    assert process.poll() is None, f"JupyterLab exited early:\n{log.read_text()[-3000:]}"
    assert status == 200, f"/lab answered {status}:\n{log.read_text()[-3000:]}"
    # the page config lists the prebuilt (federated) extensions the browser will load
    start = page.index('id="jupyter-config-data"')
    config = json.loads(page[page.index(">", start) + 1: page.index("</script>", start)])
    names = [ext["name"] for ext in config["federated_extensions"]]
    assert WIDGETS_EXTENSION in names, names
    disabled = config.get("disabledExtensions", [])
    assert (lab.NBGRADER_LAB_EXTENSION in disabled) is (not instructor), disabled
    assert ("--ServerApp.jpserver_extensions" in " ".join(process.args)) is (not instructor)

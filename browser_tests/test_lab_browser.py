"""JupyterLab in a real headless Chromium: run course notebooks, move their widgets, look at the result.

``make test-browser`` runs this after installing Chromium and ChromeDriver from
the operating system's packages (no browser download). For each notebook the
test starts a student JupyterLab (``posgen lab``'s configuration) on a free
localhost port over a scratch copy of the notebooks, opens the notebook, runs
all cells from the *Run* menu, moves widget controls with the keyboard as a
student would, checks that the widget's picture changed and that the browser
console reports no widget errors, and saves screenshots to
``outputs/browser/`` (one of them is the README's picture).
"""
from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="install the browser extra: pip install -e '.[browser]'")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from posgen_lib.course.lab import lab_command, student_environment  # noqa: E402
from posgen_lib.data.camvid import find_camvid  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "outputs" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
RUN_TIMEOUT_S = 600

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs chromium and chromedriver (make test-browser installs them)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, token) of a JupyterLab with the student configuration over a scratch copy of notebooks/ alone
    (the notebooks read nothing outside their folder; their training goes to a scratch POSGEN_CKPT_DIR)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("checkpoints", "*.py"))
    port, token = free_port(), secrets.token_hex(16)
    argv = lab_command(root, ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                              f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"])
    env = student_environment(config_dir=root / "config")
    env["JUPYTER_RUNTIME_DIR"] = str(root / "runtime")
    env["POSGEN_CKPT_DIR"] = str(root / "cache")
    log = (root / "lab.log").open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            break
        except OSError:
            assert process.poll() is None and time.time() < deadline, (root / "lab.log").read_text()[-3000:]
            time.sleep(0.5)
    try:
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1100", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def open_notebook(driver, lab, name: str) -> None:
    base, token = lab
    driver.get(f"{base}/lab/workspaces/{name[:2]}/tree/notebooks/{name}?reset&token={token}")
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell"), 120, "the notebook")
    wait_for(lambda: "Idle" in kernel_status(driver), 120, "the kernel to start")


def kernel_status(driver) -> str:
    items = driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator, .jp-KernelStatus")
    return " ".join((i.get_attribute("title") or "") + i.text for i in items) or "Idle"  # no indicator: idle


def click_menu(driver, menu: str, item: str) -> None:
    bar = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
                            if e.text == menu], 30, f"the {menu} menu")
    bar[0].click()
    entry = wait_for(lambda: [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
                              if e.text == item], 30, f"{menu} > {item}")
    entry[0].click()


def run_all(driver) -> None:
    """Run All Cells and wait until every cell has run. The committed notebooks carry their execution counts,
    so numbered prompts alone do not say the run is over: first wait for it to start (a queued ``[*]`` prompt
    or a busy kernel; a loaded machine can take seconds to act on the click)."""
    def prompts():
        return [p.text for p in driver.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputPrompt")]

    def finished():
        shown = prompts()
        return shown and not any("*" in p for p in shown) and all(p.strip() not in ("", "[ ]:") for p in shown)

    click_menu(driver, "Run", "Run All Cells")
    wait_for(lambda: any("*" in p for p in prompts()) or "Busy" in kernel_status(driver), 60, "the run to start",
             interval=0.1)
    wait_for(finished, RUN_TIMEOUT_S, "every cell to run", interval=2)
    errors = [e.text[:300] for e in driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")
              if "Traceback" in e.text or "Error:" in e.text.split("\n")[0]]
    assert not errors, f"a cell raised: {errors[0]}"


def widget_images(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .widget-image")


def move_slider(driver, box, presses: int, key=Keys.ARROW_RIGHT) -> None:
    handle = box.find_element(By.CSS_SELECTOR, ".noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    handle.click()
    for _ in range(presses):
        handle.send_keys(key)
        time.sleep(0.2)


def labelled_slider(driver, description: str, which: int = 0):
    """The slider whose description label reads ``description`` (``which``: the first, or e.g. -1, the last)."""
    found = [s for s in driver.find_elements(By.CSS_SELECTOR, ".widget-hslider, .widget-slider")
             if any(label.text.strip() == description for label in s.find_elements(By.CSS_SELECTOR, ".widget-label"))]
    assert found, f"no slider labelled {description!r}"
    return found[which]


def widget_errors(driver) -> list[str]:
    return [entry["message"][:300] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and ("widget" in entry["message"].lower() or "Error" in entry["message"])]


def shoot(driver, element, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", element)
    time.sleep(0.5)
    driver.save_screenshot(str(path))
    return path


def test_notebook_06_resolution_slider_and_zoom(browser, lab):
    open_notebook(browser, lab, "06_resolution_upscaling.ipynb")
    run_all(browser)
    sliders = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".widget-hslider, .widget-slider"), 60,
                       "the widgets")
    viewer = sliders[0].find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]")
    image = viewer.find_element(By.CSS_SELECTOR, ".widget-image")
    before = (image.get_attribute("src"), image.size)
    move_slider(browser, sliders[0], 3)  # 1x -> 3.3x
    wait_for(lambda: image.get_attribute("src") != before[0], 60, "the resolution slider to re-render")
    natural = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
    shown = image.size
    assert abs(shown["width"] - 2 * shown["height"]) <= 2, f"the 2:1 render is shown at {shown}"  # aspect kept
    assert natural[0] >= shown["width"] or natural[0] % 128 == 0, natural  # no browser upscaling smear
    shoot(browser, viewer, "06_resolution_slider.png")
    other = labelled_slider(browser, "zoom")
    other_image = other.find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]") \
        .find_elements(By.CSS_SELECTOR, ".widget-image")[-1]
    src = other_image.get_attribute("src")
    move_slider(browser, other, 2)
    wait_for(lambda: other_image.get_attribute("src") != src, 60, "a second widget to re-render")
    shoot(browser, other, "06_second_widget.png")
    if find_camvid() is not None:  # section 8 draws CamVid: the texture knob of the any-resolution model
        knob = labelled_slider(browser, "texture", -1)  # section 8's (section 3's acts on its any-resolution model)
        knob_image = knob.find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]") \
            .find_element(By.CSS_SELECTOR, ".widget-image")
        src = knob_image.get_attribute("src")
        move_slider(browser, knob, 4, Keys.ARROW_LEFT)  # the operating point (1) -> 0, the faithful base
        wait_for(lambda: knob_image.get_attribute("src") != src, 120, "the texture knob to re-render")
        shoot(browser, knob, "06_texture_knob.png")
    assert not widget_errors(browser)


def test_notebook_01_widget(browser, lab):
    open_notebook(browser, lab, "01_fourier_features.ipynb")
    run_all(browser)
    sliders = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".widget-hslider, .widget-slider"), 60,
                       "the widgets")
    box = sliders[0].find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]")
    pictures = box.find_elements(By.CSS_SELECTOR, ".widget-image, .widget-output")
    before = [p.get_attribute("innerHTML")[:2000] or p.get_attribute("src") for p in pictures]
    move_slider(browser, sliders[0], 2)
    wait_for(lambda: [p.get_attribute("innerHTML")[:2000] or p.get_attribute("src") for p in pictures] != before,
             120, "the widget to update")
    shoot(browser, box, "01_widget.png")
    assert not widget_errors(browser)

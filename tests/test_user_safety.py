"""Nothing a user owns is overwritten or deleted, wrong inputs never give a wrong image with exit status 0,
and every user error is one line (issue 16; docs/architecture.md, *What a command may write*).

One test per case of the issue, under real conditions where the machine allows them: a small tmpfs for a
full or read-only disk (skipped where it cannot be mounted), a real ``kill -9`` and real SIGINTs of a
subprocess, real symbolic links.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import posgen_lib as pg
from posgen_lib import checkpoint as ckpt
from posgen_lib.cli import main, shorten
from posgen_lib.config import fast_mode
from posgen_lib.errors import UserError
from posgen_lib.records import write_record
from posgen_lib.train import rundir
from posgen_lib.train.loop import train

from conftest import ROOT

ENV = {**os.environ, "POSGEN_FAST": "1", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
LAUNCHER = [sys.executable, "-c", "import sys, posgen_launcher; sys.exit(posgen_launcher.main())"]


def ctrl_c_reaches_it() -> None:
    """Give a child the default Ctrl-C (a test run started in the background, e.g. with nohup, passes on an
    ignored SIGINT, and Python then installs no KeyboardInterrupt for it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(argv, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err.strip()


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err


def tiny_args(out, *extra):
    return ["train", "--preset", "tiny", "--out", str(out), "--quiet", *map(str, extra)]


def save_ids(ids, path: Path, **kwargs) -> Path:
    Image.fromarray(np.asarray(ids, dtype=np.uint8)).save(path, **kwargs)
    return path


@contextlib.contextmanager
def tmpfs(folder: Path, size: str, read_only: bool = False):
    """A real tmpfs of ``size`` mounted at ``folder`` (skips the test where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A trained tiny PosGen, a 32x64 label map and the same scene's 4x label map, as PNGs."""
    root = tmp_path_factory.mktemp("safety")
    cfg = pg.preset("tiny")
    cfg.train.steps = 2
    train(cfg, root / "run", progress=False)
    low = pg.data.SyntheticStreets(size=(64, 128), length=1, split="test")
    save_ids(low[0]["label"], root / "label.png")
    save_ids(low.render(0, size=(256, 512))["label"], root / "label_4x.png")
    save_ids(pg.data.SyntheticStreets(size=(32, 64), length=1, split="test")[0]["label"], root / "tiny.png")
    return root


def render_args(files, model, *extra, out="out.png"):
    return ["render", model, files / "label.png", "--out", files / out, *extra]


# ----- 1. a user's markdown is never replaced by a generated table -----------------------------------

def _refuse_the_work(monkeypatch, module: str, name: str) -> None:
    """Make the long work of a command fail loudly, to show that a refusal came before it."""
    def work(*args, **kwargs):
        raise AssertionError(f"{name} ran: the output was not checked first")
    monkeypatch.setattr(f"{module}.{name}", work)


@pytest.mark.parametrize("argv,page,module,work", [
    (["bench", "--no-compile", "--out"], "README.md", "posgen_lib.perf.bench", "run_bench"),
    (["experiment", "--recipes"], "notes.md", "posgen_lib.eval.recipes", "run_recipes"),
    (["experiment", "--out"], "results.md", "posgen_lib.eval.experiment", "run_experiment"),
], ids=["bench --out README.md", "experiment --recipes notes.md", "experiment --out DIR (own results.md)"])
def test_a_page_without_markers_is_refused_before_the_work_and_kept(tmp_path, capsys, monkeypatch, argv, page,
                                                                    module, work):
    mine = tmp_path / page
    mine.write_text("# My notes\n\nHand-written, no markers.\n")
    _refuse_the_work(monkeypatch, module, work)
    target = tmp_path if argv[-1] == "--out" and page == "results.md" else mine
    code, err = run_cli([*argv, target], capsys)
    one_line_error(code, err, str(mine), "markers")
    assert mine.read_text() == "# My notes\n\nHand-written, no markers.\n"


def test_write_record_fills_only_between_markers_and_refuses_a_page_without_them(tmp_path):
    begin, end = "<!-- x: begin -->", "<!-- x: end -->"
    new = write_record(tmp_path / "new.md", "table 1", begin, end)
    assert new.read_text() == f"{begin}\ntable 1\n{end}\n"
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{begin}\nold\n{end}\nreading\n")
    write_record(page, "table 2", begin, end)
    assert page.read_text() == f"intro\n{begin}\ntable 2\n{end}\nreading\n"
    for text in ("prose only\n", f"{end}\nreversed\n{begin}\n", f"{begin}\nonly the first\n"):
        page.write_text(text)
        with pytest.raises(UserError, match="without the markers"):
            write_record(page, "table 3", begin, end)
        assert page.read_text() == text


def test_experiment_refuses_a_results_json_it_did_not_write(tmp_path, capsys, monkeypatch):
    (tmp_path / "results.json").write_text('{"my": "data"}')
    _refuse_the_work(monkeypatch, "posgen_lib.eval.experiment", "run_experiment")
    code, err = run_cli(["experiment", "--out", tmp_path], capsys)
    one_line_error(code, err, "results.json", "not a posgen experiment's")
    assert (tmp_path / "results.json").read_text() == '{"my": "data"}'


# ----- 2. posgen demo deletes only a demo run it created ----------------------------------------------

def test_demo_refuses_a_train_folder_that_is_not_its_own_run(tmp_path, capsys):
    mine = tmp_path / "train" / "thesis.txt"
    mine.parent.mkdir()
    mine.write_text("years of work")
    code, err = run_cli(["demo", "--out", tmp_path], capsys)
    one_line_error(code, err, "not a run posgen demo started")
    assert mine.read_text() == "years of work"


def test_demo_replaces_only_its_own_run(tmp_path):
    from posgen_lib.eval.demo import OWNER, clear_previous_demo

    cfg = pg.preset("tiny")
    rundir.start_run(tmp_path / "user" / "train", cfg)  # a run a user started there: not the demo's
    with pytest.raises(UserError, match="not a run posgen demo started"):
        clear_previous_demo(tmp_path / "user")
    assert (tmp_path / "user" / "train" / "run.json").is_file()
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "samples.png").write_bytes(b"my picture")
    with pytest.raises(UserError, match="no demo run"):
        clear_previous_demo(tmp_path / "pictures")
    assert (tmp_path / "pictures" / "samples.png").read_bytes() == b"my picture"
    rundir.start_run(tmp_path / "demo" / "train", cfg, owner=OWNER)
    (tmp_path / "demo" / "train" / "checkpoints").mkdir()
    clear_previous_demo(tmp_path / "demo")
    assert not (tmp_path / "demo" / "train").exists()


# ----- 3. posgen assign student never overwrites the instructor's notebooks ---------------------------

def _instructor_notebook(path: Path) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n")
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "f",
                                 "schema_version": 3}
    nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path.read_bytes()


@pytest.mark.parametrize("layout", ["OUT == SRC", "OUT inside SRC", "a notebook into its own folder",
                                    "OUT holds an instructor notebook", "OUT is a link to SRC"])
def test_assign_student_refuses_an_out_that_would_overwrite_instructor_notebooks(tmp_path, capsys, layout):
    src = tmp_path / "course"
    original = _instructor_notebook(src / "06.ipynb")
    out = {"OUT == SRC": src, "OUT inside SRC": src / "student", "a notebook into its own folder": src,
           "OUT holds an instructor notebook": tmp_path / "other", "OUT is a link to SRC": tmp_path / "link"}[layout]
    if layout == "OUT holds an instructor notebook":
        other = _instructor_notebook(out / "06.ipynb")
    if layout == "OUT is a link to SRC":
        out.symlink_to(src)
    source = src / "06.ipynb" if layout == "a notebook into its own folder" else src
    code, err = run_cli(["assign", "student", source, out], capsys)
    one_line_error(code, err)
    assert (src / "06.ipynb").read_bytes() == original
    assert not (src / "student").exists()
    if layout == "OUT holds an instructor notebook":
        assert (out / "06.ipynb").read_bytes() == other


@pytest.mark.parametrize("argv", [["assign", "student", "{nb}", "{tmp}/out"], ["assign", "run", "{nb}"],
                                  ["assign", "grade", "{nb}", "{nb}"]])
def test_a_notebook_that_is_not_json_is_named(tmp_path, capsys, argv):
    nb = tmp_path / "broken.ipynb"
    nb.write_text("garbage")
    code, err = run_cli([a.format(nb=nb, tmp=tmp_path) for a in argv], capsys)
    one_line_error(code, err, f"{nb}: not a readable notebook")


# ----- 4. pretrained build writes a trial to its own folder; assets change only with --release ----------

def test_pretrained_build_writes_a_trial_to_its_own_folder_and_leaves_the_shipped_files(tmp_path, monkeypatch,
                                                                                        capsys):
    from posgen_lib.eval import shipped
    from posgen_lib.models import registry

    def tiny(recipe, steps=None, data=None):
        cfg = pg.preset("tiny")
        cfg.model.generator, cfg.train.steps = recipe.generator, steps or recipe.steps
        return cfg

    monkeypatch.setitem(shipped.RECIPES, "tiny_trial", shipped.Recipe("posgen", "trial", steps=2))
    monkeypatch.setitem(registry.PRETRAINED, "tiny_trial", "tiny_trial.pt")
    monkeypatch.setattr(shipped.Recipe, "config", tiny)
    assets = Path(pg.__file__).parent / "assets"
    shipped_files = {p.name: p.read_bytes() for p in assets.iterdir() if p.is_file()}
    monkeypatch.chdir(tmp_path)
    assert main(["pretrained", "build", "tiny_trial", "--steps", "1", "--quiet"]) == 0
    assert {p.name: p.read_bytes() for p in assets.iterdir() if p.is_file()} == shipped_files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs"]
    trial = tmp_path / "outputs" / "pretrained"
    _, _, card = registry.load_generator(trial / "tiny_trial.pt")
    assert card["command"] == "posgen pretrained build tiny_trial --steps 1 --out outputs/pretrained"
    assert "Trial generators" in (trial / "model_card_synthetic.md").read_text()
    code, err = run_cli(["pretrained", "build", "tiny_trial", "--release", "--steps", "1"], capsys)
    one_line_error(code, err, "--steps is for a trial")
    code, err = run_cli(["pretrained", "build", "tiny_trial", "--release"], capsys)
    one_line_error(code, err, "POSGEN_FAST")
    assert {p.name: p.read_bytes() for p in assets.iterdir() if p.is_file()} == shipped_files


# ----- 5. high-resolution label maps: the right frame, a model that reads them, lossless ids -------------

@pytest.mark.parametrize("size", [(256, 256), (1, 1), (128, 512)])
def test_a_labels_hr_of_another_frame_is_refused_by_the_cli_and_the_api(files, capsys, size):
    wrong = save_ids(np.zeros(size), files / f"wrong_{size[0]}x{size[1]}.png")
    code, err = run_cli(render_args(files, "pretrained:synthetic_anyres", "--scale", 4, "--labels-hr", wrong,
                                    out="wrong.png"), capsys)
    one_line_error(code, err, f"--labels-hr {wrong} is {size[0]}x{size[1]}", "64x128 label map's frame")
    assert not (files / "wrong.png").exists()
    G = pg.pretrained("synthetic_anyres")
    sem = pg.data.to_semantics(torch.zeros(64, 128, dtype=torch.long), None, "synthetic")
    hr = pg.data.to_semantics(torch.zeros(size, dtype=torch.long), None, "synthetic")
    with pytest.raises(ValueError, match="frame"):
        pg.render(G, sem, scale=4, labels=hr)


def test_labels_hr_of_the_same_frame_render_the_same_image_as_semantics(files):
    """The command line keeps --labels-hr as ids (LabelMap); its image equals the one-hot path's."""
    G = pg.pretrained("synthetic_anyres")
    label = torch.from_numpy(np.array(Image.open(files / "label.png"))).long()
    label_4x = torch.from_numpy(np.array(Image.open(files / "label_4x.png"))).long()
    sem = pg.data.to_semantics(label, None, "synthetic")
    hr = pg.data.to_semantics(label_4x, None, "synthetic")
    ids = pg.rendering.LabelMap.from_ids(label_4x, None, "synthetic", use_instance=True)
    for kwargs in ({"scale": 4}, {"scale": 2.5}, {"size": (40, 61), "window": (-1, -0.5, 0.2, 0.5)}):
        torch.testing.assert_close(pg.render(G, sem, labels=ids, **kwargs), pg.render(G, sem, labels=hr, **kwargs))


def test_a_model_that_cannot_read_labels_hr_refuses_it(files, capsys):
    code, err = run_cli(["render", files / "run" / "model.pt", files / "tiny.png", "--out", files / "o.png",
                         "--scale", 4, "--labels-hr", files / "label.png"], capsys)
    one_line_error(code, err, "--labels-hr: the posgen model cannot read", "joint_bilateral_hr")
    assert not (files / "o.png").exists()


@pytest.mark.parametrize("option", ["LABEL", "--labels-hr"])
def test_a_jpeg_label_map_is_refused(files, capsys, option):
    source = files / ("label.png" if option == "LABEL" else "label_4x.png")
    jpeg = files / f"{source.stem}.jpg"
    Image.open(source).save(jpeg, quality=90)
    argv = render_args(files, "pretrained:synthetic_anyres", "--scale", 4, "--labels-hr",
                       jpeg if option == "--labels-hr" else files / "label_4x.png", out="jpeg.png")
    if option == "LABEL":
        argv[2] = jpeg
    code, err = run_cli(argv, capsys)
    one_line_error(code, err, f"{option} {jpeg} is a JPEG image", "lossless PNG")
    assert not (files / "jpeg.png").exists()


def test_a_huge_labels_hr_costs_its_ids_not_a_one_hot_plane_per_class(files):
    """A 2896x5792 --labels-hr (16.8M pixels, just under the limit) for a 256x512 render: the one-hot
    semantics of the whole map alone would take 1.4 GB; read as ids the peak grows by a fraction of it."""
    huge = files / "huge_hr.png"  # the scene's 4x map enlarged (nearest): drawing the scene at this size takes 10 s
    Image.open(files / "label_4x.png").resize((5792, 2896), Image.NEAREST).save(huge)
    script = f"""
import resource, sys
from posgen_lib.cli import main
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = ["render", "pretrained:synthetic_anyres", "{files / 'label.png'}", "--scale", "4", "--out", "{files / 'h.png'}"]
assert main(base + ["--labels-hr", "{files / 'label_4x.png'}"]) == 0
before = peak()
assert main(base + ["--labels-hr", "{huge}"]) == 0
print((peak() - before) / 2**20)
"""
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    grown_mib = float(done.stdout.strip().splitlines()[-1])
    assert grown_mib < 600, f"peak memory grew by {grown_mib:.0f} MiB"


def test_render_refuses_semantics_of_the_wrong_kind_in_one_line(files):
    G = pg.pretrained("synthetic")
    label = torch.zeros(1, 64, 128, dtype=torch.long)
    with pytest.raises(ValueError, match="pass label ids through pg.data.to_semantics"):
        pg.render(G, label[:, None])
    sem = pg.data.to_semantics(label, None, "synthetic")
    with pytest.raises(ValueError, match="channels"):
        pg.upscale(G, sem[:, :-2], scale=2, method="bicubic")
    torch.testing.assert_close(pg.render(G, sem.half()), pg.render(G, sem))  # exact one-hot in any float


# ----- weak: a full or read-only disk ----------------------------------------------------------------------

def test_a_full_disk_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, capsys):
    with tmpfs(tmp_path / "disk", "32m") as disk:
        out = disk / "run"
        assert main(tiny_args(out, "--steps", 2)) == 0
        previous = ckpt.latest_checkpoint(out / "checkpoints")
        good = previous.read_bytes()
        free = shutil.disk_usage(disk).free
        filler = free - 256 * 1024  # room for the log and samples, not for a checkpoint
        (disk / "filler").write_bytes(b"\0" * filler)
        code, err = run_cli(tiny_args(out, "--steps", 4, "--resume"), capsys)
        one_line_error(code, err, "no space left on the disk")
        assert previous.read_bytes() == good
        assert not list((out / "checkpoints").glob(".*.tmp")), "the temporary file must be removed"


def test_a_read_only_disk_is_refused_before_the_work(tmp_path, capsys, monkeypatch):
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as disk:
        _refuse_the_work(monkeypatch, "posgen_lib.perf.bench", "run_bench")
        _refuse_the_work(monkeypatch, "posgen_lib.eval.experiment", "run_experiment")
        for argv in (["bench", "--no-compile", "--out", disk / "bench.md"], ["experiment", "--out", disk / "docs"],
                     ["render", "pretrained:synthetic", "{label}", "--out", disk / "big.png"],
                     tiny_args(disk / "run", "--steps", 2)):
            label = save_ids(np.zeros((64, 128)), tmp_path / "label.png")
            code, err = run_cli([str(a).format(label=label) for a in argv], capsys)
            one_line_error(code, err, "read-only file system")


def test_an_output_below_a_link_to_nowhere_is_named_as_such(tmp_path, capsys):
    (tmp_path / "runs").symlink_to(tmp_path / "mounted_disk")  # a disk that is not mounted
    code, err = run_cli(tiny_args(tmp_path / "runs", "--steps", 1), capsys)
    one_line_error(code, err, "is a symbolic link to", "which does not exist")
    assert "File exists" not in err


def test_out_of_memory_suggests_only_options_the_command_has():
    from posgen_lib.cli import user_message

    oom = RuntimeError("[enforce fail at alloc_cpu.cpp:117] err == 0. DefaultCPUAllocator: can't allocate memory: "
                       "you tried to allocate 68719476736 bytes. Error code 12 (Cannot allocate memory)")
    assert "--batch" not in user_message(oom, "render") and "--window" in user_message(oom, "render")
    assert "--batch" in user_message(oom, "train")


# ----- weak: run folders ---------------------------------------------------------------------------------

class FailingScenes(torch.utils.data.Dataset):
    """Procedural scenes whose files "break" at item 1: a run that fails before its first checkpoint."""

    def __init__(self):
        self.scenes = pg.data.SyntheticStreets(size=(32, 64), length=8)

    def __len__(self):
        return len(self.scenes)

    def __getitem__(self, index):
        if index == 1:
            raise ValueError("scene 1 is damaged")
        return self.scenes[index]


def test_a_run_that_failed_before_its_first_checkpoint_does_not_trap_its_folder(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = pg.preset("tiny")
    cfg.train.steps, cfg.train.batch_size = 4, 8
    with pytest.raises(ValueError, match="damaged"):
        train(cfg, out, dataset=FailingScenes(), progress=False)
    assert (out / "run.json").is_file() and ckpt.latest_checkpoint(out / "checkpoints") is None
    code, err = run_cli(tiny_args(out, "--steps", 2, "--resume"), capsys)
    one_line_error(code, err, "drop --resume to start a new run")
    assert main(tiny_args(out, "--steps", 2)) == 0  # ... and dropping it works
    code, err = run_cli(tiny_args(out, "--steps", 2), capsys)
    one_line_error(code, err, "already holds run")  # a run with a checkpoint is protected again


@pytest.fixture(scope="module")
def anyres_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("anyres") / "run"
    assert main(tiny_args(out, "--generator", "anyres", "--steps", 2)) == 0
    return out


@pytest.mark.parametrize("change,field", [(("--patch-gan", 0.5), "train.lambda_patch_gan"),
                                          (("--rec", 2), "train.lambda_rec"),
                                          (("--consistency", 0), "train.lambda_consistency"),
                                          (("--scale-max", 2), "train.anyres_scale_max")])
def test_an_any_resolution_resume_refuses_a_changed_loss(anyres_run, tmp_path, capsys, change, field):
    out = tmp_path / "run"
    shutil.copytree(anyres_run, out)
    code, err = run_cli(tiny_args(out, "--generator", "anyres", "--steps", 3, "--resume", *change), capsys)
    one_line_error(code, err, field, "--allow-change")


def test_a_planted_lock_link_is_replaced_and_its_target_untouched(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("do not truncate")
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").symlink_to(precious)
    assert main(tiny_args(out, "--steps", 1)) == 0
    assert precious.read_text() == "do not truncate"
    assert not (out / ".lock").is_symlink()


def test_a_damaged_tree_read_by_dataloader_workers_is_one_line(tmp_path, capsys):
    from posgen_lib.data.fabricate import CITY_SPLITS, city_paths, make_cityscapes

    root = make_cityscapes(tmp_path / "cityscapes")
    for name in CITY_SPLITS["train"]:  # every train photo cut short, whichever a worker reads first
        photo = city_paths(root, "train", name)["image"]
        data = photo.read_bytes()
        photo.write_bytes(data[: len(data) // 2])
    code, err = run_cli(["train", "--preset", "cityscapes", "--data", root, "--out", tmp_path / "run", "--steps", 1,
                         "--batch", 1, "--workers", 2, "--quiet"], capsys)
    one_line_error(code, err, "_leftImg8bit.png: cannot read the image", "truncated")
    assert "Original" not in err and len(err) < 400, err


# ----- weak: user errors are one line, never an "internal error" ---------------------------------------------

def test_user_errors_of_training_are_one_line(tmp_path, capsys, monkeypatch, files):
    bad_vgg = tmp_path / "vgg19.pth"
    bad_vgg.write_text("not weights")
    code, err = run_cli(tiny_args(tmp_path / "a", "--steps", 1, "--vgg-weights", bad_vgg), capsys)
    one_line_error(code, err, str(bad_vgg), "VGG19 state dict")
    code, err = run_cli(tiny_args(tmp_path / "b", "--steps", 1, "--generator", "anyres", "--init",
                                  files / "run" / "model.pt", "--patch-gan", 0, "--rec", 0, "--consistency", 0), capsys)
    one_line_error(code, err, "nothing to train")
    G, cfg, _ = pg.load_generator(files / "run" / "model.pt")
    with torch.no_grad():
        next(iter(G.parameters())).fill_(float("nan"))  # a model file of a run that diverged
    ckpt.save_model(tmp_path / "nan.pt", G, cfg)
    code, err = run_cli(tiny_args(tmp_path / "c", "--steps", 2, "--generator", "anyres", "--init",
                                  tmp_path / "nan.pt"), capsys)
    one_line_error(code, err, "loss became non-finite", "--amp off")
    if not torch.backends.mps.is_available():
        monkeypatch.setenv("POSGEN_DEVICE", "mps")
        code, err = run_cli(tiny_args(tmp_path / "d", "--steps", 1), capsys)
        one_line_error(code, err, "POSGEN_DEVICE 'mps'", "not available")


def test_long_messages_are_cut_between_words():
    text = "the state dict key generator.head.layers.0.weight_orig " * 10
    cut = shorten(text, 100)
    assert len(cut) <= 100 and cut.endswith(" ...")
    assert text.startswith(cut[:-4])
    assert cut[:-4].split()[-1] in text.split()  # the last word is whole


@pytest.mark.parametrize("value,fast", [("1", True), ("true", True), ("Yes", True), ("on", True), ("", False),
                                        ("0", False), ("false", False), ("no", False), ("OFF", False)])
def test_posgen_fast_reads_true_and_false(monkeypatch, value, fast):
    monkeypatch.setenv("POSGEN_FAST", value)
    assert fast_mode() is fast


def test_posgen_fast_refuses_other_values(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("POSGEN_FAST", "maybe")
    with pytest.raises(ValueError, match="POSGEN_FAST='maybe'"):
        fast_mode()
    code, err = run_cli(["demo", "--out", tmp_path], capsys)
    one_line_error(code, err, "POSGEN_FAST='maybe'")


# ----- weak: outputs ----------------------------------------------------------------------------------------

def test_an_image_is_never_left_half_written_by_a_kill(tmp_path):
    """kill -9 in the middle of writing the image: the previous file is still whole, no partial file."""
    target = tmp_path / "render.png"
    save_ids(np.zeros((8, 8)), target)
    before = target.read_bytes()
    script = f"""
import os, signal, numpy as np
from PIL import Image
from posgen_lib.viz.images import save_png
real_save = Image.Image.save
def save_and_die(self, fp, *args, **kwargs):
    fp.write(b"\\x89PNG partial")
    fp.flush()
    os.kill(os.getpid(), signal.SIGKILL)
Image.Image.save = save_and_die
save_png(np.zeros((64, 64, 3), np.uint8), "{target}")
"""
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "render.png"]
    assert all(name.startswith(".render.png.") for name in leftovers)  # only a temporary file, never the target


@pytest.mark.parametrize("case", ["the input label map", "a folder", "the current folder", "a link to nowhere",
                                  "below a link to nowhere", "an unknown image type"])
def test_render_refuses_a_bad_out_before_the_work(files, capsys, monkeypatch, case):
    monkeypatch.chdir(files)
    label_bytes = (files / "tiny.png").read_bytes()
    (files / "nowhere.png").unlink(missing_ok=True)
    for link, target in (("dangling.png", files / "nowhere.png"), ("dangling_dir", files / "no_dir")):
        if not os.path.lexists(files / link):
            (files / link).symlink_to(target)
    out, needle = {"the input label map": (files / "tiny.png", "is the input LABEL"),
                   "a folder": (files / "run", "is a folder"), "the current folder": (Path("."), "is a folder"),
                   "a link to nowhere": (files / "dangling.png", "symbolic link"),
                   "below a link to nowhere": (files / "dangling_dir" / "x.png", "symbolic link"),
                   "an unknown image type": (files / "o.pngx", "unknown image file type")}[case]
    code, err = run_cli(["render", files / "run" / "model.pt", files / "tiny.png", "--out", out], capsys)
    one_line_error(code, err, needle)
    assert (files / "tiny.png").read_bytes() == label_bytes and not (files / "nowhere.png").exists()


def test_misleading_messages_are_gone(files, tmp_path, capsys, monkeypatch):
    code, err = run_cli(["render", files / "tiny.png", files / "tiny.png", "--out", tmp_path / "o.png"], capsys)
    one_line_error(code, err, "is a PNG image, not a PosGen checkpoint")
    state = torch.load(files / "run" / "model.pt", weights_only=True)
    key = sorted(state["generator"])[-1]
    state["generator"].pop(key)
    torch.save(state, tmp_path / "cut.pt")
    code, err = run_cli(["render", tmp_path / "cut.pt", files / "tiny.png", "--out", tmp_path / "o.png"], capsys)
    one_line_error(code, err, f"missing {key}")
    monkeypatch.chdir(tmp_path)
    assert main(tiny_args(".", "--steps", 1)) == 0
    code, err = run_cli(tiny_args(".", "--steps", 1, "--overwrite"), capsys)
    one_line_error(code, err, "is the current folder")
    code, err = run_cli(["segmenter", "train", "--out", ".", "--steps", 1], capsys)
    one_line_error(code, err, "--out . is a folder")
    with pytest.raises(ValueError, match="cannot be read as an official SPADE state dict"):
        pg.compat.load_official_spade(pg.SPADEGenerator(pg.preset("tiny").model), files / "tiny.png")


# ----- weak: the course lab, and Ctrl-C --------------------------------------------------------------------

def test_lab_finds_the_repository_from_any_folder(tmp_path, monkeypatch):
    from posgen_lib.course.lab import repository_root

    monkeypatch.chdir(tmp_path)
    assert repository_root() == ROOT


def test_ctrl_c_while_posgen_starts_is_one_line(tmp_path):
    started = subprocess.Popen([*LAUNCHER, "train", "--preset", "tiny", "--out", "unused", "--steps", "1"],
                               cwd=tmp_path, env=ENV, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches_it)
    # Ctrl-C once torch is loading, i.e. inside the launcher's import: a fixed wait can fall before Python has
    # even set itself up on a loaded machine, where no program can catch it
    maps, deadline = Path(f"/proc/{started.pid}/maps"), time.monotonic() + 60
    while maps.exists() and "libtorch" not in maps.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    started.send_signal(signal.SIGINT)
    err = started.communicate(timeout=120)[1]
    assert started.returncode == 130 and err.strip().splitlines() == ["posgen: interrupted while starting"], err
    assert not (tmp_path / "unused").exists()


def test_ctrl_c_during_training_says_to_resume_with_resume(tmp_path):
    first = subprocess.Popen([*LAUNCHER, *tiny_args(tmp_path / "run", "--steps", 100000)], env=ENV,
                             stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches_it)
    deadline = time.time() + 300
    while not (tmp_path / "run" / "log.jsonl").is_file():
        assert first.poll() is None and time.time() < deadline, "training did not start"
        time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    err = first.communicate(timeout=300)[1]
    assert first.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "rerunning the same command with --resume" in err, err
    assert ckpt.latest_checkpoint(tmp_path / "run" / "checkpoints") is not None

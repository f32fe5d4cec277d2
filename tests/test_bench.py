"""posgen bench: the table's structure and the record file (no timing is asserted)."""
from __future__ import annotations

from posgen_lib.perf import bench
from posgen_lib.records import write_record


def test_tiny_bench_measures_every_row(monkeypatch):
    compiled = []
    monkeypatch.setattr(bench, "compile_module", lambda module, device: compiled.append(module) or module)
    rows = bench.run_bench("tiny", repeats=1)
    names = [r.name for r in rows]
    assert names[0].startswith("train throughput") and names[1].startswith("train step PosGen/SPADE, same trunk")
    assert names[2].startswith("train step PosGen (spade trunk)/SPADE as published")
    assert names[3].startswith("demo pace") and names[4].startswith("train step,") and "threads vs 1" in names[4]
    assert names[5].startswith("compile generator") and names[6].startswith("compile all")
    assert len(compiled) == 3  # G for "generator"; G and D for "all"
    assert "synthetic data rate" in names and "render 4x, any-resolution (labels at 4x)" in names
    cityscapes = next(r for r in rows if r.name.startswith("render 4x, any-resolution, Cityscapes widths"))
    assert cityscapes.target == ">= 4" and cityscapes.met == (cityscapes.ratio >= 4)
    assert any(n.startswith("render memory 8x") for n in names)
    assert all(r.ratio > 0 for r in rows)
    # Chunked rendering: the working memory stops growing once images exceed one band.
    memory = {r.name: r.posgen for r in rows if r.name.startswith("render memory")}
    assert memory["render memory 8x"] == memory["render memory 16x"]
    table = bench.format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| ratio |" in table


def test_record_replaces_only_the_marked_block(tmp_path):
    path = tmp_path / "benchmarks.md"
    write_record(path, "first run", bench.BEGIN, bench.END)
    assert path.read_text() == f"{bench.BEGIN}\nfirst run\n{bench.END}\n"
    path.write_text("# Title\n\n" + path.read_text() + "\n## Analysis\nkept\n")
    write_record(path, "second run", bench.BEGIN, bench.END)
    text = path.read_text()
    assert "second run" in text and "first run" not in text
    assert text.startswith("# Title") and text.endswith("## Analysis\nkept\n")


def test_bench_can_skip_the_compile_rows():
    names = [r.name for r in bench.run_bench("tiny", repeats=1, compile_rows=False)]
    assert not any(n.startswith("compile") for n in names)


def test_threads_are_restored_after_a_single_thread_run():
    before, seen = bench.torch.get_num_threads(), []
    bench.with_threads(lambda: seen.append(bench.torch.get_num_threads()), 1)()
    assert seen == [1] and bench.torch.get_num_threads() == before

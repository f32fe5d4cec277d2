"""``posgen data check | prepare | gallery``: validate or build real dataset folders; the synthetic gallery."""
from __future__ import annotations

from pathlib import Path

from ..data.build import default_root
from ..errors import UserError
from ..data.prepare import DATASETS, DEFAULT_SPLITS, check_dataset, prepare_cityscapes, prepare_coco_stuff
from .args import in_range, non_negative_int


def _check_target(args) -> tuple[str, Path]:
    """(dataset, folder) from ``check DATASET [DIR]`` or ``check [DIR] --dataset DATASET``."""
    words = list(args.target)
    dataset = args.dataset
    if words and words[0] in DATASETS and not (dataset and len(words) == 1):
        named = words.pop(0)
        if dataset and dataset != named:
            raise UserError(f"two datasets named: {named} and --dataset {dataset}; give one")
        dataset = named
    if dataset is None:
        raise UserError(f"name the dataset: posgen data check {{{','.join(DATASETS)}}} DIR")
    if len(words) > 1:
        raise UserError(f"one folder to check, got {len(words)}: {' '.join(words)}")
    return dataset, Path(words[0]) if words else default_root(dataset)


def _run_check(args) -> int:
    dataset, root = _check_target(args)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder; give the {dataset} folder (data/README.md says how to "
                        f"get it{'' if dataset == 'camvid' else f' and prepare it, e.g. `posgen data prepare {dataset} --src DOWNLOADS`'})")
    report = check_dataset(root, dataset, args.split)
    print(report)
    return 0 if report.ok else 1


def _run_prepare(args) -> int:
    out = Path(args.out) if args.out else default_root(args.dataset)
    prepare = prepare_cityscapes if args.dataset == "cityscapes" else prepare_coco_stuff
    print(prepare(args.src, out, tuple(args.split)))
    print(f"next: posgen data check {out} --dataset {args.dataset}")
    return 0


def _run_gallery(args) -> int:
    from ..records import check_figure
    from ..viz.figures import save_gallery

    print(save_gallery(check_figure(args.out, "--out"), n=args.scenes, seed=args.seed))
    return 0


def add(sub) -> None:
    """``posgen data check``, ``prepare`` and ``gallery``."""
    data = sub.add_parser("data", help="check or prepare a real dataset folder; synthetic gallery")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="validate a dataset folder; exit status 1 when problems were found")
    check.add_argument("target", nargs="*", metavar="DATASET DIR",
                       help=f"the dataset ({', '.join(DATASETS)}) and its folder (default folder: "
                            "$POSGEN_DATA_DIR/DATASET), e.g. `posgen data check camvid ../shared/camvid`")
    check.add_argument("--dataset", choices=list(DATASETS), help="the dataset, when the folder comes first")
    check.add_argument("--split", nargs="+", default=None,
                       help=f"splits to check (default: {' '.join(DEFAULT_SPLITS)})")
    check.set_defaults(func=_run_check)
    prepare = actions.add_parser(
        "prepare", help="build a dataset folder from your own downloads (see data/README.md)")
    prepare.add_argument("dataset", choices=[d for d in DATASETS if d != "camvid"])
    prepare.add_argument("--src", required=True,
                         help="cityscapes: folder with gtFine_trainvaltest.zip and "
                              "leftImg8bit_trainvaltest.zip; coco_stuff: folder with train2017/, "
                              "val2017/ (or .zip), stuffthingmaps_trainval2017.zip, annotations/")
    prepare.add_argument("--out", default=None,
                         help="output folder (default: $POSGEN_DATA_DIR/DATASET)")
    prepare.add_argument("--split", nargs="+", default=list(DEFAULT_SPLITS),
                         help=f"splits to prepare (default: {' '.join(DEFAULT_SPLITS)})")
    prepare.set_defaults(func=_run_prepare)
    gallery = actions.add_parser(
        "gallery", help="PNG of procedural street scenes (labels, photos, one scene at 1x and 4x)")
    gallery.add_argument("--out", default="outputs/synthetic_gallery.png",
                         help="PNG to write (default outputs/synthetic_gallery.png); a PNG there that posgen did "
                              "not draw is refused")
    gallery.add_argument("--scenes", type=in_range(1, 64, kind=int), default=6, help="scenes to show (default 6)")
    gallery.add_argument("--seed", type=non_negative_int, default=0, help="dataset seed (default 0)")
    gallery.set_defaults(func=_run_gallery)

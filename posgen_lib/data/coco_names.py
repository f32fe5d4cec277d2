"""COCO-Stuff class names (Caesar et al., "COCO-Stuff: Thing and Stuff Classes
in Context", CVPR 2018) in the id order of ``stuffthingmaps_trainval2017``:
ids 0..90 are the 91 COCO thing ids (11 of them never annotated), 91..181 the
91 stuff classes; 255 is "unlabeled".
"""
from __future__ import annotations

_THINGS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "street sign", "stop sign", "parking meter", "bench",
    "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
    "hat", "backpack", "umbrella", "shoe", "eye glasses", "handbag", "tie", "suitcase",
    "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove",
    "skateboard", "surfboard", "tennis racket", "bottle", "plate", "wine glass", "cup", "fork",
    "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot",
    "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant", "bed", "mirror",
    "dining table", "window", "desk", "toilet", "door", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "blender",
    "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush", "hair brush",
)
_STUFF = (
    "banner", "blanket", "branch", "bridge", "building-other", "bush", "cabinet", "cage",
    "cardboard", "carpet", "ceiling-other", "ceiling-tile", "cloth", "clothes", "clouds",
    "counter", "cupboard", "curtain", "desk-stuff", "dirt", "door-stuff", "fence",
    "floor-marble", "floor-other", "floor-stone", "floor-tile", "floor-wood", "flower", "fog",
    "food-other", "fruit", "furniture-other", "grass", "gravel", "ground-other", "hill",
    "house", "leaves", "light", "mat", "metal", "mirror-stuff", "moss", "mountain", "mud",
    "napkin", "net", "paper", "pavement", "pillow", "plant-other", "plastic", "platform",
    "playingfield", "railing", "railroad", "river", "road", "rock", "roof", "rug", "salad",
    "sand", "sea", "shelf", "sky-other", "skyscraper", "snow", "solid-other", "stairs",
    "stone", "straw", "structural-other", "table", "tent", "textile-other", "towel", "tree",
    "vegetable", "wall-brick", "wall-concrete", "wall-other", "wall-panel", "wall-stone",
    "wall-tile", "wall-wood", "water-other", "waterdrops", "window-blind", "window-other", "wood",
)
COCO_STUFF_NAMES: tuple[str, ...] = _THINGS + _STUFF

# Thing ids that COCO 2017 never annotates (the 80 detection classes are the rest).
_UNUSED_THINGS = {"street sign", "hat", "shoe", "eye glasses", "plate", "mirror", "window",
                  "desk", "door", "blender", "hair brush"}
COCO_THING_IDS: tuple[int, ...] = tuple(i for i, n in enumerate(_THINGS) if n not in _UNUSED_THINGS)


def coco_stuff_colors() -> tuple[tuple[int, int, int], ...]:
    """A fixed, well-spread colour per id: the bits of (id + 1) spread over R, G and B
    from the most significant bit down (the PASCAL VOC colour-map construction)."""
    colors = []
    for label_id in range(len(COCO_STUFF_NAMES)):
        r = g = b = 0
        c = label_id + 1
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colors.append((r, g, b))
    return tuple(colors)

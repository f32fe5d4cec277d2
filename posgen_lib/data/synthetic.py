"""Procedural street scenes: the built-in dataset (no download needed).

A scene is a handful of numbers (a :class:`Scene`), not pixels: a pinhole
camera looking down a straight street, the lateral layout of road, sidewalks
and terrain, rows of facades (buildings, hedges) on both sides, and objects
(cars, people, poles with signs and lights, trees) standing on the ground.
:func:`render_scene` evaluates the scene at the pixel centres that
:func:`posgen_lib.grid.coordinate_grid` gives for any ``size`` and
``window`` (u right, v down, both in [-1, 1], ``align_corners=True``), so the
same scene renders at 1x, 4x or any zoom and its label maps agree; this is the
high-resolution ground truth of the upscaling experiment.

Rendering is a painter's algorithm in screen coordinates (u, v):

1. sky everywhere; below the horizon every pixel is back-projected onto the
   ground plane, giving lateral position X and depth Z (metres), and X picks
   road, sidewalk or terrain. Lane markings and paving joints are *texture*
   computed from X and Z (no label of their own).
2. facades: vertical planes parallel to the road. A screen column meets a
   facade plane at one depth, which picks the building or hedge segment there;
   windows are texture on the wall.
3. trees on the terrain strips, then fences, then the street objects sorted
   far to near. Each object is painted inside its screen bounding box from
   metric coordinates relative to its foot point (a: lateral, b: height).

The pixel grid is a tensor product of its x and y coordinates, so ground
depths are 1-D per row and facade depths 1-D per column; per-pixel work is a
few broadcasts. The scene is painted once, on a grid of twice the resolution
plus one: the pixel centres and, between them, the edges of each pixel's
footprint (the pixel spacing at that size). Labels and instance ids are read
at the centres (point samples); the photo averages its 3 x 3 samples over the
footprint by the trapezoid rule (weights 1/4, 1/2, 1/4 per axis, edges shared
with the neighbours), so it is anti-aliased. Every sample carries a material
(an index into the scene's palette), a shading factor and a haze amount; the
photo is ``palette * shading * (1 + texture)`` blended toward the haze colour.
The texture is a sum of sinusoids of the continuous coordinates with per-scene
random frequencies and phases, evaluated at the pixel centres: the same
texture at every resolution, with finer detail showing at higher ones.

Scenes are designed for a 2:1 (width:height) image, e.g. 64x128 or 256x512;
other aspect ratios stretch them.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import torch

from ..grid import FULL_WINDOW, coordinate_grid

__all__ = ["Scene", "SyntheticStreets", "render_scene", "sample_scene"]

ASPECT = 2.0  # width / height of the image the scenes are designed for
SPLITS = ("train", "val", "test")

# Cityscapes label ids (the "synthetic" label set of labels.py).
ROAD, SIDEWALK, BUILDING, FENCE, POLE = 7, 8, 11, 13, 17
TRAFFIC_LIGHT, TRAFFIC_SIGN, VEGETATION, TERRAIN, SKY, PERSON, CAR = 19, 20, 21, 22, 23, 24, 26


class Mat(IntEnum):
    """Shared materials: the first rows of every scene's palette."""
    SKY = 0
    ROAD = 1
    MARKING = 2
    SIDEWALK = 3
    TERRAIN = 4
    LEAVES = 5
    TRUNK = 6
    WINDOW = 7
    FENCE = 8
    METAL = 9
    GLASS = 10
    TYRE = 11
    TAIL_LIGHT = 12
    HEAD_LIGHT = 13
    PLATE = 14
    LIGHT_BOX = 15
    LAMP_OFF = 16
    LAMP_RED = 17
    LAMP_AMBER = 18
    LAMP_GREEN = 19
    SIGN_RED = 20
    SIGN_WHITE = 21
    SIGN_BLUE = 22
    SIGN_YELLOW = 23
    SKIN = 24


# Mean colour (sRGB in [0, 1]), per-scene colour jitter (std) and texture amplitude.
MATERIAL_LOOKS = {
    Mat.SKY: ((0.56, 0.70, 0.88), 0.05, 0.02), Mat.ROAD: ((0.34, 0.34, 0.36), 0.04, 0.05),
    Mat.MARKING: ((0.90, 0.90, 0.86), 0.02, 0.05), Mat.SIDEWALK: ((0.62, 0.59, 0.56), 0.05, 0.05),
    Mat.TERRAIN: ((0.47, 0.52, 0.30), 0.05, 0.25), Mat.LEAVES: ((0.24, 0.40, 0.16), 0.04, 0.35),
    Mat.TRUNK: ((0.30, 0.22, 0.15), 0.03, 0.10), Mat.WINDOW: ((0.20, 0.25, 0.32), 0.04, 0.10),
    Mat.FENCE: ((0.50, 0.48, 0.44), 0.05, 0.15), Mat.METAL: ((0.42, 0.43, 0.45), 0.04, 0.05),
    Mat.GLASS: ((0.13, 0.15, 0.19), 0.02, 0.05), Mat.TYRE: ((0.06, 0.06, 0.06), 0.01, 0.0),
    Mat.TAIL_LIGHT: ((0.75, 0.08, 0.06), 0.03, 0.0), Mat.HEAD_LIGHT: ((0.96, 0.95, 0.85), 0.01, 0.0),
    Mat.PLATE: ((0.90, 0.90, 0.88), 0.02, 0.0), Mat.LIGHT_BOX: ((0.10, 0.10, 0.10), 0.02, 0.0),
    Mat.LAMP_OFF: ((0.16, 0.16, 0.13), 0.01, 0.0), Mat.LAMP_RED: ((1.0, 0.18, 0.10), 0.0, 0.0),
    Mat.LAMP_AMBER: ((1.0, 0.70, 0.10), 0.0, 0.0), Mat.LAMP_GREEN: ((0.20, 1.0, 0.45), 0.0, 0.0),
    Mat.SIGN_RED: ((0.80, 0.10, 0.10), 0.03, 0.02), Mat.SIGN_WHITE: ((0.92, 0.92, 0.92), 0.02, 0.02),
    Mat.SIGN_BLUE: ((0.10, 0.30, 0.70), 0.03, 0.02), Mat.SIGN_YELLOW: ((0.95, 0.78, 0.10), 0.03, 0.02),
    Mat.SKIN: ((0.85, 0.66, 0.52), 0.06, 0.0),
}
OVERCAST_SKY = (0.76, 0.79, 0.83)
WALL_COLOURS = ((0.78, 0.72, 0.62), (0.62, 0.62, 0.62), (0.62, 0.36, 0.28), (0.88, 0.86, 0.80),
                (0.85, 0.77, 0.55), (0.55, 0.50, 0.45), (0.70, 0.60, 0.52))
CAR_COLOURS = ((0.88, 0.88, 0.88), (0.08, 0.08, 0.09), (0.68, 0.69, 0.71), (0.42, 0.43, 0.45),
               (0.10, 0.15, 0.35), (0.60, 0.08, 0.08), (0.22, 0.32, 0.60), (0.70, 0.64, 0.52))
CLOTH_COLOURS = ((0.15, 0.15, 0.18), (0.75, 0.15, 0.15), (0.20, 0.30, 0.60), (0.85, 0.85, 0.82),
                 (0.35, 0.45, 0.30), (0.55, 0.45, 0.35), (0.90, 0.70, 0.20))
TROUSER_COLOURS = ((0.12, 0.12, 0.14), (0.16, 0.20, 0.35), (0.40, 0.40, 0.42), (0.45, 0.38, 0.30))

MARKING_WIDTH = 0.15  # metres
DASH_PERIOD, DASH_LENGTH = 9.0, 3.0  # metres along the road
NOISE_TERMS = 16


# --------------------------------------------------------------------------- scene description

@dataclass(frozen=True)
class Camera:
    """Pinhole camera at lateral X = 0 looking along the road (depth Z); Y is the height above the ground.

    u = vanish_x + focal * X / Z and v = horizon + ASPECT * focal * (height - Y) / Z.
    """
    vanish_x: float  # u of the vanishing point
    horizon: float  # v of the horizon
    focal: float  # u units per unit of X / Z
    height: float  # metres above the ground

    @property
    def focal_v(self) -> float:
        return ASPECT * self.focal

    def screen_u(self, x, z):
        return self.vanish_x + self.focal * x / z

    def screen_v(self, y, z):
        """Screen v of a point ``y`` metres above the ground at depth ``z``."""
        return self.horizon + self.focal_v * (self.height - y) / z

    def lateral(self, u, z):
        return (u - self.vanish_x) * z / self.focal

    def elevation(self, v, z):
        return self.height - (v - self.horizon) * z / self.focal_v


@dataclass(frozen=True)
class Road:
    left: float  # X of the left edge (negative)
    right: float  # X of the right edge
    markings: tuple[tuple[float, bool], ...]  # (X of the line, dashed)
    dash_phase: float  # metres


@dataclass(frozen=True, eq=False)
class Side:
    """One side of the street; distances are |X| in metres, facade segments are indexed by depth."""
    direction: int  # -1 left, +1 right
    curb: float  # road edge
    walk: float  # outer edge of the sidewalk (and line of the fence)
    facade: float  # facade plane; terrain lies between walk and facade
    starts: np.ndarray  # (S,) depth where each segment starts, ascending
    ends: np.ndarray  # (S,) depth where it ends (gaps between segments show what is behind)
    heights: np.ndarray  # (S,) metres
    labels: np.ndarray  # (S,) BUILDING or VEGETATION
    walls: np.ndarray  # (S,) material of each segment
    window_pitch: np.ndarray  # (S,) metres between window columns
    floor_height: np.ndarray  # (S,) metres
    shade: float  # sunlit or shadowed side
    fence: tuple[float, float, float] | None  # (first depth, last depth, height)


@dataclass(frozen=True)
class Car:
    x: float
    z: float
    width: float
    height: float
    body: int  # material
    instance: int
    oncoming: bool  # seen from the front (headlights) instead of from behind


@dataclass(frozen=True)
class Person:
    x: float
    z: float
    height: float
    shirt: int
    trousers: int
    instance: int


@dataclass(frozen=True)
class Pole:
    x: float
    z: float
    height: float
    kind: str  # "sign", "light" (a traffic light on top) or "lamp" (a street lamp)
    sign_centre: float = 0.0  # sign: metres above the ground
    sign_face: int = 0  # sign: material
    round_sign: bool = False
    lit_lamp: int = 0  # light: 0 red, 1 amber, 2 green
    arm: float = 0.0  # lamp: signed lateral length of the arm (toward the road)


@dataclass(frozen=True)
class Tree:
    x: float
    z: float
    trunk: float  # metres to the crown's bottom
    crown: float  # crown radius in metres


@dataclass(frozen=True, eq=False)
class Scene:
    """Parameters of one street scene (see the module docstring)."""
    camera: Camera
    road: Road
    sides: tuple[Side, Side]  # left, right
    back_things: tuple[Tree, ...]  # trees on the terrain strips (behind the fences), far to near
    things: tuple[Car | Person | Pole | Tree, ...]  # cars, people, poles, sidewalk trees, far to near
    palette: np.ndarray  # (M, 3) colours in [0, 1]
    texture: np.ndarray  # (M,) texture amplitude per material
    noise: np.ndarray  # (NOISE_TERMS, 4) rows of (freq_u, freq_v, phase, amplitude)
    haze: np.ndarray  # (3,) colour of distant air
    fog_distance: float  # metres
    road_gradient: float  # road brightness change toward the camera
    gain: float  # global brightness


# --------------------------------------------------------------------------- sampling

class _Palette:
    """Collects the scene's materials: the shared :class:`Mat` ones, then per-object colours.

    Colours get their random jitter (mostly brightness, a little hue) in one draw at the end.
    """

    def __init__(self, rng: np.random.Generator, overcast: bool):
        self.rng = rng
        self.means, self.jitters, self.textures = [], [], []
        for mat in Mat:
            mean, jitter, texture = MATERIAL_LOOKS[mat]
            self.add(OVERCAST_SKY if mat is Mat.SKY and overcast else mean, jitter, texture)

    def add(self, mean, jitter: float = 0.05, texture: float = 0.08) -> int:
        self.means.append(mean)
        self.jitters.append(jitter)
        self.textures.append(texture)
        return len(self.means) - 1

    def pick(self, choices, jitter: float = 0.04, texture: float = 0.06) -> int:
        return self.add(choices[self.rng.integers(len(choices))], jitter, texture)

    def pick_many(self, choices, count: int, jitter: float = 0.04, texture: float = 0.06) -> np.ndarray:
        """(count,) new materials, each a random one of ``choices``."""
        first = len(self.means)
        self.means += [choices[k] for k in self.rng.integers(len(choices), size=count)]
        self.jitters += [jitter] * count
        self.textures += [texture] * count
        return np.arange(first, first + count)

    def colours(self) -> np.ndarray:
        """(M, 3) jittered colours in [0, 1]."""
        means, jitters = np.asarray(self.means), np.asarray(self.jitters)[:, None]  # (M, 3), (M, 1)
        brightness = 1.0 + jitters * self.rng.normal(size=(len(means), 1))
        tint = jitters / 3 * self.rng.normal(size=(len(means), 3))
        return np.clip(means * brightness + tint, 0.0, 1.0).astype(np.float32)


def _sample_road(rng: np.random.Generator) -> tuple[Road, int, list[float]]:
    """The road, the number of oncoming lanes and the lanes' centre X (camera lane at X = 0)."""
    lane = rng.uniform(2.8, 3.5)
    lanes = (2, 2, 3, 4)[rng.integers(4)]
    own = int(rng.integers(lanes // 2, lanes))
    lanes_left, lanes_right = -(own + 0.5) * lane, (lanes - own - 0.5) * lane
    markings = [(lanes_left + k * lane, not (k == lanes // 2 and rng.random() < 0.3))
                for k in range(1, lanes)]
    markings += [(lanes_left + 0.25, False), (lanes_right - 0.25, False)]
    parking = [2.3 if rng.random() < 0.35 else 0.0 for _ in range(2)]
    road = Road(left=lanes_left - parking[0], right=lanes_right + parking[1],
                markings=tuple(markings), dash_phase=rng.uniform(0, DASH_PERIOD))
    centres = [lanes_left + (k + 0.5) * lane for k in range(lanes)]
    centres += [road.left + 1.1] if parking[0] else []
    centres += [road.right - 1.1] if parking[1] else []
    return road, lanes // 2, centres


def _sample_facades(rng: np.random.Generator, palette: _Palette, slots: int = 48) -> dict:
    """Segments of buildings and hedges along one side, from near the camera to 150..350 m."""
    draws = rng.random((5, slots))  # one call for all segments' uniform draws
    lengths = 8.0 + 22.0 * draws[0]  # (slots,) 8..30 m; slots * 8 m reach past 350 m
    starts = 1.0 + np.cumsum(lengths) - lengths
    kind = draws[1]  # building < 0.72 <= hedge < 0.9 <= gap
    keep = (starts < rng.uniform(150.0, 350.0)) & (kind < 0.9)
    building = kind < 0.72
    walls = np.full(slots, int(Mat.LEAVES))
    walls[keep & building] = palette.pick_many(WALL_COLOURS, int(np.sum(keep & building)), 0.05, 0.05)
    heights = np.where(building, 7.0 + 21.0 * draws[2], 2.5 + 4.5 * draws[2])  # 7..28 m, hedges 2.5..7 m
    return dict(starts=starts[keep], ends=(starts + lengths)[keep], heights=heights[keep],
                labels=np.where(building, BUILDING, VEGETATION)[keep], walls=walls[keep],
                window_pitch=(2.2 + 1.6 * draws[3])[keep], floor_height=(2.9 + 0.7 * draws[4])[keep])


def _sample_side(rng: np.random.Generator, direction: int, curb: float, palette: _Palette) -> Side:
    walk = curb + rng.uniform(2.0, 4.5)
    terrain = rng.uniform(1.5, 5.0) if rng.random() < 0.45 else 0.0
    fence = None
    if terrain > 0 and rng.random() < 0.5:
        first = rng.uniform(2.0, 20.0)
        fence = (first, first + rng.uniform(15.0, 80.0), rng.uniform(0.9, 1.4))
    return Side(direction=direction, curb=curb, walk=walk, facade=walk + terrain,
                shade=rng.uniform(0.75, 1.05), fence=fence, **_sample_facades(rng, palette))


def _sample_depths(rng, count: int, near: float, far: float, gap: float) -> list[float]:
    """Up to ``count`` depths in [near, far], at least ``gap`` apart."""
    depths: list[float] = []
    for z in np.sort(rng.uniform(near, far, count)):
        if not depths or z - depths[-1] >= gap:
            depths.append(float(z))
    return depths


def _sample_cars(rng, centres, oncoming_lanes, palette) -> list[Car]:
    cars = []
    for k, x in enumerate(centres):
        near = 10.0 if abs(x) < 0.5 else 7.0  # keep a gap ahead of the camera in its own lane
        for z in _sample_depths(rng, min(rng.poisson(1.2), 3), near, 70.0, 8.0):
            van = rng.random() < 0.15
            cars.append(Car(x=x + rng.normal(0.0, 0.2), z=z, width=rng.uniform(1.7, 2.0),
                            height=rng.uniform(1.8, 2.2) if van else rng.uniform(1.4, 1.6),
                            body=palette.pick(CAR_COLOURS), instance=CAR * 1000 + len(cars),
                            oncoming=k < oncoming_lanes))
    return cars


def _sample_people(rng, sides, palette) -> list[Person]:
    people = []
    for _ in range(rng.integers(0, 6)):
        side = sides[rng.integers(2)]
        height = rng.uniform(1.55, 1.9)
        people.append(Person(x=side.direction * (side.curb + rng.uniform(0.5, side.walk - side.curb - 0.4)),
                             z=rng.uniform(6.0, 40.0), height=height,
                             shirt=palette.pick(CLOTH_COLOURS, 0.05, 0.05),
                             trousers=palette.pick(TROUSER_COLOURS, 0.03, 0.05),
                             instance=PERSON * 1000 + len(people)))
    return people


def _sample_poles(rng, side: Side) -> list[Pole]:
    poles = []
    for z in _sample_depths(rng, int(rng.integers(1, 4)), 7.0, 45.0, 6.0):
        kind = ("sign", "light", "lamp")[int(np.searchsorted([0.45, 0.7], rng.random()))]
        x = side.direction * (side.curb + 0.4)
        if kind == "sign":
            face = int((Mat.SIGN_RED, Mat.SIGN_BLUE, Mat.SIGN_YELLOW, Mat.SIGN_WHITE)[rng.integers(4)])
            poles.append(Pole(x, z, rng.uniform(2.6, 3.2), kind, sign_centre=rng.uniform(2.0, 2.5),
                              sign_face=face, round_sign=bool(rng.random() < 0.6)))
        elif kind == "light":
            poles.append(Pole(x, z, rng.uniform(3.3, 4.5), kind, lit_lamp=int(rng.integers(3))))
        else:
            poles.append(Pole(x, z, rng.uniform(6.0, 8.5), kind, arm=-side.direction * rng.uniform(1.0, 2.0)))
    return poles


def _sample_trees(rng, side: Side) -> tuple[list[Tree], list[Tree]]:
    """(trees on the terrain strip, trees on the sidewalk)."""
    terrain = side.facade - side.walk
    if terrain > 1.5:
        depths = _sample_depths(rng, 6, 7.0, 70.0, 6.0)
        return [Tree(side.direction * (side.walk + rng.uniform(0.6, terrain - 0.6)), z,
                     rng.uniform(1.5, 2.5), rng.uniform(1.2, 2.8)) for z in depths], []
    if rng.random() < 0.4:
        depths = _sample_depths(rng, 4, 8.0, 60.0, 8.0)
        return [], [Tree(side.direction * (side.walk - 0.6), z, rng.uniform(2.2, 3.0), rng.uniform(1.2, 2.2))
                    for z in depths]
    return [], []


def _noise_terms(rng: np.random.Generator) -> np.ndarray:
    """(NOISE_TERMS, 4): frequencies log-uniform over 15..150 rad/unit, random direction and phase."""
    radius = np.exp(rng.uniform(np.log(15.0), np.log(150.0), NOISE_TERMS))
    angle = rng.uniform(0.0, np.pi, NOISE_TERMS)
    amplitude = radius ** -0.5
    amplitude *= np.sqrt(2.0 / np.sum(amplitude ** 2))  # unit variance
    return np.stack([radius * np.cos(angle), radius * np.sin(angle) / ASPECT,  # isotropic in pixels
                     rng.uniform(0.0, 2 * np.pi, NOISE_TERMS), amplitude], axis=1)


def sample_scene(rng: np.random.Generator) -> Scene:
    """Draw one street scene's parameters from ``rng``."""
    camera = Camera(vanish_x=rng.uniform(-0.25, 0.25), horizon=rng.uniform(-0.3, -0.02),
                    focal=rng.uniform(1.9, 2.5), height=rng.uniform(1.3, 1.7))
    overcast = rng.random() < 0.4
    palette = _Palette(rng, overcast)
    road, oncoming_lanes, lane_centres = _sample_road(rng)
    sides = (_sample_side(rng, -1, -road.left, palette), _sample_side(rng, 1, road.right, palette))
    things: list = _sample_cars(rng, lane_centres, oncoming_lanes, palette)
    things += _sample_people(rng, sides, palette)
    back_things: list = []
    for side in sides:
        things += _sample_poles(rng, side)
        terrain_trees, sidewalk_trees = _sample_trees(rng, side)
        back_things += terrain_trees
        things += sidewalk_trees
    by_depth = lambda t: -t.z  # noqa: E731 (far first)
    haze = np.array([0.86, 0.87, 0.88]) if overcast else np.array([0.80, 0.86, 0.93])
    haze = (haze + rng.normal(0.0, 0.02, 3)).astype(np.float32)
    return Scene(camera=camera, road=road, sides=sides, back_things=tuple(sorted(back_things, key=by_depth)),
                 things=tuple(sorted(things, key=by_depth)), palette=palette.colours(),
                 texture=np.asarray(palette.textures, np.float32), noise=_noise_terms(rng), haze=haze,
                 fog_distance=rng.uniform(150.0, 400.0), road_gradient=rng.uniform(-0.15, 0.15),
                 gain=rng.uniform(0.9, 1.1))


# --------------------------------------------------------------------------- rasterising

class Canvas:
    """Per-pixel buffers over the sample grid ``us`` (W,) x ``vs`` (H,), both ascending.

    ``ids`` holds the label id of stuff and the instance id (label * 1000 + k) of things;
    ``material``, ``shade`` and ``haze`` describe the photo. It starts as plain sky.
    """

    def __init__(self, us: np.ndarray, vs: np.ndarray):
        self.us, self.vs = us, vs
        self._u_list, self._v_list = us.tolist(), vs.tolist()  # bisect on lists is fastest for scalars
        shape = (len(vs), len(us))
        self.ids = np.full(shape, SKY, np.int32)
        self.material = np.full(shape, Mat.SKY, np.int32)
        self.shade = np.ones(shape, np.float32)
        self.haze = np.zeros(shape, np.float32)

    def region(self, u0, u1, v0, v1) -> tuple[slice, slice] | None:
        """Rows and columns whose samples lie in [u0, u1] x [v0, v1] (None when empty)."""
        cols = slice(bisect_right(self._u_list, u0), bisect_right(self._u_list, u1))
        rows = slice(bisect_right(self._v_list, v0), bisect_right(self._v_list, v1))
        if cols.start == cols.stop or rows.start == rows.stop:
            return None
        return rows, cols

    def paint(self, region, mask, ident, material=0, shade=1.0, haze=0.0):
        """Write the given values (scalars or arrays broadcastable to the region) where ``mask``.

        ``ident`` is a label id (stuff) or an instance id (things).
        """
        np.copyto(self.ids[region], ident, where=mask, casting="unsafe")
        np.copyto(self.material[region], material, where=mask, casting="unsafe")
        np.copyto(self.shade[region], shade, where=mask, casting="unsafe")
        np.copyto(self.haze[region], haze, where=mask, casting="unsafe")

    def darken(self, region, mask, factor: float):
        """Multiply the photo's shading by ``factor`` where ``mask`` (labels unchanged)."""
        view = self.shade[region]
        np.multiply(view, factor, out=view, where=mask)


def _frac(x):
    return x - np.floor(x)  # much faster than np.mod


def _factor(mask, value: float):
    """float32 ``value`` where ``mask``, else 1."""
    return np.where(mask, np.float32(value), np.float32(1.0))


def _haze(scene: Scene, depth):
    """Haze amount (float32, same shape as ``depth``) of a surface ``depth`` metres away."""
    return (0.85 * (1.0 - np.exp(-np.asarray(depth, np.float64) / scene.fog_distance))).astype(np.float32)


def _draw_sky(canvas: Canvas, scene: Scene):
    """The canvas starts as sky; only its haze, strongest at the horizon, is set here."""
    above = np.maximum(scene.camera.horizon - canvas.vs, 0.0)  # (H,) v units above the horizon
    canvas.haze[:] = (0.75 * np.exp(-above / 0.3)).astype(np.float32)[:, None]


def _draw_ground(canvas: Canvas, scene: Scene):
    """Road, sidewalks and terrain below the horizon, with markings and paving as texture."""
    cam, road = scene.camera, scene.road
    rows = slice(np.searchsorted(canvas.vs, cam.horizon, side="right"), None)
    region = (rows, slice(None))
    depth = (cam.focal_v * cam.height / (canvas.vs[rows] - cam.horizon))[:, None]  # (Hg, 1)
    lateral = cam.lateral(canvas.us[None, :], depth).astype(np.float32)  # (Hg, W)
    left, right = scene.sides
    zone = sum((lateral >= edge).view(np.uint8)
               for edge in (-left.walk, road.left, road.right, right.walk))  # (Hg, W) 0..4 from the left
    labels = np.take(np.array([TERRAIN, SIDEWALK, ROAD, SIDEWALK, TERRAIN], np.uint8), zone)
    zone_materials = np.array([Mat.TERRAIN, Mat.SIDEWALK, Mat.ROAD, Mat.SIDEWALK, Mat.TERRAIN], np.int32)
    materials = np.take(zone_materials, zone)  # (Hg, W)
    depth32 = depth.astype(np.float32)
    dashes = _frac((depth32 + road.dash_phase) / DASH_PERIOD) < DASH_LENGTH / DASH_PERIOD  # (Hg, 1)
    for x, dashed in road.markings:
        line = np.abs(lateral - x) < MARKING_WIDTH / 2  # (Hg, W)
        np.putmask(materials, (line & dashes) if dashed else line, Mat.MARKING)
    on_road = zone == 2
    walk = (zone == 1) | (zone == 3)
    joints = walk & (_frac(depth32 / 1.2) < 0.07)  # paving
    curb = (lateral > road.left - 0.25) & (lateral < road.right + 0.25) & ~on_road
    shade = (1.0 + scene.road_gradient * np.exp(-depth32 / 15.0)) * _factor(joints, 0.9) * _factor(curb, 1.1)
    canvas.paint(region, True, labels, materials, shade, _haze(scene, depth32))


def _side_columns(canvas: Canvas, scene: Scene, side: Side, distance: float):
    """Columns on ``side`` and the depth (C,) at which they meet a plane ``distance`` m from the camera."""
    cam = scene.camera
    split = np.searchsorted(canvas.us, cam.vanish_x, side="right")
    cols = slice(split, None) if side.direction > 0 else slice(None, split)
    offset = np.abs(canvas.us[cols] - cam.vanish_x)
    return cols, cam.focal * distance / np.maximum(offset, 1e-9)


def _wall_mask(canvas: Canvas, cam: Camera, depth, height, inside):
    """(H, C) samples on a vertical plane between the ground and ``height`` (both per column)."""
    top, bottom = cam.screen_v(height, depth), cam.screen_v(0.0, depth)  # (C,)
    return inside & (canvas.vs[:, None] >= top) & (canvas.vs[:, None] <= bottom)


def _draw_facades(canvas: Canvas, scene: Scene, side: Side):
    """Buildings (with windows as texture) and hedges on the facade plane of one side."""
    cam = scene.camera
    cols, depth = _side_columns(canvas, scene, side, side.facade)  # (C,)
    segment = np.maximum(np.searchsorted(side.starts, depth, side="right") - 1, 0)  # (C,)
    inside = (depth >= side.starts[segment]) & (depth < side.ends[segment])
    hedge = side.labels[segment] == VEGETATION
    height = side.heights[segment] + hedge * 0.8 * np.abs(np.sin(depth * 1.3))  # bumpy hedge tops
    mask = _wall_mask(canvas, cam, depth, height, inside)  # (H, C)
    region = (slice(None), cols)
    label = side.labels[segment].astype(np.uint8)
    v = canvas.vs[:, None] - cam.horizon  # (H, 1)
    floor_height = side.floor_height[segment]  # (C,)
    storey = cam.height / floor_height - v * (depth / (cam.focal_v * floor_height))  # (H, C) height in floors
    window_row = np.abs(_frac(storey.astype(np.float32)) - 0.54) < 0.24
    window_col = ~hedge & (np.abs(_frac(depth / side.window_pitch[segment]) - 0.5) < 0.25)  # (C,)
    ground_floor = canvas.vs[:, None] > cam.screen_v(3.2, depth)  # (H, C)
    below_roof = canvas.vs[:, None] > cam.screen_v(height - 0.8, depth)  # (H, C)
    window = window_row & window_col & ~ground_floor & below_roof
    material = np.where(window, np.int32(Mat.WINDOW), side.walls[segment].astype(np.int32))
    shade = np.float32(side.shade) * _factor(ground_floor, 0.85)
    canvas.paint(region, mask, label, material, shade, _haze(scene, depth))


def _draw_fence(canvas: Canvas, scene: Scene, side: Side):
    """A fence along the outer edge of the sidewalk, between two depths."""
    first, last, height = side.fence
    cam = scene.camera
    cols, depth = _side_columns(canvas, scene, side, side.walk)  # (C,)
    mask = _wall_mask(canvas, cam, depth, height, (depth >= first) & (depth <= last))  # (H, C)
    region = (slice(None), cols)
    rail = canvas.vs[:, None] < cam.screen_v(height - 0.08, depth)  # (H, C)
    post = _frac(depth / 2.5) < 0.05  # (C,)
    material = np.where(post | rail, np.int32(Mat.METAL), np.int32(Mat.FENCE))
    shade = _factor(_frac(depth / 0.25) < 0.25, 0.8)  # vertical bars, (C,)
    canvas.paint(region, mask, FENCE, material, shade, _haze(scene, depth))


def _object_patch(canvas: Canvas, cam: Camera, x: float, z: float, half_width: float, top: float):
    """Screen box of an object standing at (x, z); returns (region, a (w,), b (h,)) or None.

    ``a`` is the lateral offset from ``x`` and ``b`` the height above the ground, in metres.
    Shapes are built from 1-D conditions on ``a`` and ``b`` (see :func:`_box`): tiny patches
    make numpy's per-call overhead, not the pixel count, the cost to save.
    """
    region = canvas.region(cam.screen_u(x - half_width, z), cam.screen_u(x + half_width, z),
                           cam.screen_v(top, z), cam.screen_v(0.0, z))
    if region is None:
        return None
    rows, cols = region
    a = (cam.lateral(canvas.us[cols], z) - x).astype(np.float32)
    b = cam.elevation(canvas.vs[rows], z).astype(np.float32)
    return region, a, b


def _box(row_condition, col_condition):
    """(h, w) mask: rows meeting ``row_condition`` (h,) and columns meeting ``col_condition`` (w,)."""
    return row_condition[:, None] & col_condition[None, :]


def _disc(a, b, centre_a: float, centre_b: float, radius: float):
    """(h, w) mask of a disc in metric patch coordinates."""
    return ((b - centre_b) ** 2)[:, None] + ((a - centre_a) ** 2)[None, :] <= radius ** 2


def _draw_car(canvas: Canvas, scene: Scene, car: Car):
    """Body, trapezoid cabin and wheels; glass, lights, plate and tyres are texture."""
    half, height = car.width / 2, car.height
    patch = _object_patch(canvas, scene.camera, car.x, car.z, half, height)
    if patch is None:
        return
    region, a, b = patch
    side = np.abs(a)  # (w,)
    belt = 0.58 * height  # where the cabin starts
    cabin_half = half * (0.9 - 0.22 * (b - belt) / (height - belt))  # (h,)
    cabin = (side[None, :] <= cabin_half[:, None]) & (b > belt)[:, None]
    body = _box((b >= 0.22) & (b <= belt), side <= half)
    wheels = _box((b >= 0.0) & (b < 0.36), (side >= half - 0.38) & (side <= half - 0.04))
    mask = body | cabin | wheels
    canvas.darken(region, _box((b >= 0.0) & (b < 0.22), side <= half), 0.4)  # shadow under the car
    material = np.full(mask.shape, car.body, np.int32)  # (h, w)
    glass_rows = (b >= belt + 0.06) & (b <= height - 0.08)
    glass = (side[None, :] <= cabin_half[:, None] - 0.1) & glass_rows[:, None]
    lights = _box((b >= belt - 0.2) & (b <= belt - 0.06), (side >= half - 0.36) & (side <= half - 0.08))
    np.putmask(material, glass, Mat.GLASS)
    np.putmask(material, lights, Mat.HEAD_LIGHT if car.oncoming else Mat.TAIL_LIGHT)
    np.putmask(material, _box((b >= 0.3) & (b <= 0.42), side <= 0.26), Mat.PLATE)
    material[b < 0.22] = Mat.TYRE
    shade = (_factor(b < 0.45, 0.75) * _factor(b > height - 0.1, 1.15))[:, None]  # dark bumper, bright roof
    canvas.paint(region, mask, car.instance, material, shade, _haze(scene, car.z))


def _draw_person(canvas: Canvas, scene: Scene, person: Person):
    """Head, torso and legs."""
    height = person.height
    half = 0.25 * height / 1.75
    patch = _object_patch(canvas, scene.camera, person.x, person.z, half, height)
    if patch is None:
        return
    region, a, b = patch
    side = np.abs(a)
    radius, hip = 0.12 * height / 1.75, 0.48 * height
    head = _disc(a, b, 0.0, height - radius, radius)
    torso = _box((b >= hip) & (b <= height - 2 * radius + 0.03), side <= half)
    legs = _box((b >= 0.0) & (b < hip), side <= 0.75 * half)
    mask = head | torso | legs
    clothes = np.where(b >= hip, np.int32(person.shirt), np.int32(person.trousers))[:, None]  # (h, 1)
    material = np.where(head, np.int32(Mat.SKIN), clothes)
    shade = _factor(_box(b < 0.42 * height, side < 0.035), 0.55)  # gap between the legs
    canvas.paint(region, mask, person.instance, material, shade, _haze(scene, person.z))


def _draw_pole(canvas: Canvas, scene: Scene, pole: Pole):
    """A pole with a traffic sign, a traffic light or a lamp arm."""
    arm = pole.arm
    patch = _object_patch(canvas, scene.camera, pole.x, pole.z, abs(arm) + 0.45, pole.height)
    if patch is None:
        return
    region, a, b = patch
    side = np.abs(a)
    haze = _haze(scene, pole.z)
    shaft = _box(b >= 0.0, side <= 0.09)
    if pole.kind == "lamp":
        reach, lamp = a * np.sign(arm), np.abs(a - arm) <= 0.3
        bar = _box(b >= pole.height - 0.12, (reach >= 0) & (reach <= abs(arm)))
        head = _box(b >= pole.height - 0.25, lamp)
        glow = _box((b >= pole.height - 0.25) & (b < pole.height - 0.15), lamp)
        canvas.paint(region, shaft | bar | head, POLE,
                     np.where(glow, np.int32(Mat.HEAD_LIGHT), np.int32(Mat.METAL)), haze=haze)
    elif pole.kind == "sign":
        radius, centre = 0.35, pole.sign_centre
        if pole.round_sign:
            extent = np.sqrt(((b - centre) ** 2)[:, None] + (a ** 2)[None, :])  # (h, w)
        else:
            extent = np.maximum(np.abs(b - centre)[:, None], side[None, :])
        face = extent <= radius
        canvas.paint(region, shaft & ~face, POLE, Mat.METAL, haze=haze)
        border = np.int32(Mat.SIGN_RED if pole.sign_face == Mat.SIGN_WHITE else Mat.SIGN_WHITE)
        material = np.where(extent > 0.75 * radius, border, np.int32(pole.sign_face))
        canvas.paint(region, face, TRAFFIC_SIGN, material, haze=haze)
    else:
        box = _box(b >= pole.height - 0.95, side <= 0.19)
        canvas.paint(region, shaft & ~box, POLE, Mat.METAL, haze=haze)
        canvas.paint(region, box, TRAFFIC_LIGHT, _light_materials(pole, a, b), haze=haze)


def _light_materials(pole: Pole, a, b):
    """(h, w) materials of a traffic light's box: three lamps, one of them lit."""
    centres = pole.height - 0.17 - 0.3 * np.arange(3, dtype=np.float32)  # red, amber, green
    nearest = np.argmin(np.abs(b[:, None] - centres), axis=1)  # (h,)
    lamp = ((b - centres[nearest]) ** 2)[:, None] + (a ** 2)[None, :] <= 0.11 ** 2  # (h, w)
    lit = np.array([Mat.LAMP_RED, Mat.LAMP_AMBER, Mat.LAMP_GREEN], np.int32)[nearest]
    glass = np.where(nearest == pole.lit_lamp, lit, np.int32(Mat.LAMP_OFF))  # (h,)
    return np.where(lamp, glass[:, None], np.int32(Mat.LIGHT_BOX))


def _draw_tree(canvas: Canvas, scene: Scene, tree: Tree):
    """A trunk and a crown of three overlapping discs (all vegetation)."""
    radius, trunk = tree.crown, tree.trunk
    patch = _object_patch(canvas, scene.camera, tree.x, tree.z, 1.25 * radius, trunk + 2 * radius)
    if patch is None:
        return
    region, a, b = patch
    crown = _disc(np.abs(a), b, 0.0, trunk + radius, radius) | _disc(
        np.abs(a), b, 0.55 * radius, trunk + 0.75 * radius, 0.7 * radius)  # |a|: lobes on both sides
    mask = crown | _box(b >= 0.0, np.abs(a) <= 0.14)
    material = np.where(crown, np.int32(Mat.LEAVES), np.int32(Mat.TRUNK))
    shade = np.clip(0.7 + 0.45 * (b - trunk) / (2 * radius), 0.7, 1.15)[:, None]  # darker underneath
    canvas.paint(region, mask, VEGETATION, material, shade, _haze(scene, tree.z))


_DRAW = {Car: _draw_car, Person: _draw_person, Pole: _draw_pole, Tree: _draw_tree}


def _rasterise(scene: Scene, us: np.ndarray, vs: np.ndarray) -> Canvas:
    """Paint the whole scene, back to front, at the samples ``us`` (W,) x ``vs`` (H,)."""
    canvas = Canvas(us, vs)
    _draw_sky(canvas, scene)
    _draw_ground(canvas, scene)
    for side in scene.sides:
        _draw_facades(canvas, scene, side)
    for thing in scene.back_things:
        _DRAW[type(thing)](canvas, scene, thing)
    for side in scene.sides:
        if side.fence is not None:
            _draw_fence(canvas, scene, side)
    for thing in scene.things:
        _DRAW[type(thing)](canvas, scene, thing)
    return canvas


def _texture(scene: Scene, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """(H, W) sum of sinusoids a * sin(fu u + fv v + p), evaluated as a product of 1-D factors."""
    fu, fv, phase, amp = scene.noise.T  # (K,) each
    across = fu[:, None] * us[None, :] + phase[:, None]  # (K, W)
    down = fv[None, :] * vs[:, None]  # (H, K)
    rows = np.concatenate([amp * np.cos(down), amp * np.sin(down)], axis=1).astype(np.float32)  # (H, 2K)
    cols = np.concatenate([np.sin(across), np.cos(across)], axis=0).astype(np.float32)  # (2K, W)
    return np.einsum("hk,kw->hw", rows, cols)  # einsum, not BLAS: no thread pool for a tiny product


def _sample_positions(centres: np.ndarray, antialias: bool) -> np.ndarray:
    """Sample positions along one axis: the pixel centres (N,), or with ``antialias`` (2N + 1,).

    With ``antialias`` the centres sit at the odd indices and the footprint edges at the even
    ones: half-way to the neighbouring centre, half a pixel spacing beyond the end ones.
    """
    if not antialias:
        return centres
    spacing = (centres[-1] - centres[0]) / (len(centres) - 1) if len(centres) > 1 else 0.0
    positions = np.empty(2 * len(centres) + 1)
    positions[1::2] = centres
    positions[2:-1:2] = (centres[:-1] + centres[1:]) / 2
    positions[0], positions[-1] = centres[0] - spacing / 2, centres[-1] + spacing / 2
    return positions


def _footprint_mean(samples: np.ndarray) -> np.ndarray:
    """(2H + 1, 2W + 1) -> (H, W): each pixel's footprint average by the trapezoid rule.

    Per axis the weights are 1/4, 1/2, 1/4 on (edge, centre, edge); edges are shared by neighbours.
    """
    rows = samples[:-2:2] + 2 * samples[1::2] + samples[2::2]  # (H, 2W + 1)
    return (rows[:, :-2:2] + 2 * rows[:, 1::2] + rows[:, 2::2]) / 16  # (H, W)


def _photo(scene: Scene, canvas: Canvas, texture: np.ndarray, antialias: bool) -> np.ndarray:
    """(H, W, 3) colours in [0, 1] from a canvas painted at :func:`_sample_positions`.

    Each sample's surface colour (palette * shade, less its haze) is averaged over the pixel
    footprint, times the pixel's texture (``texture`` (H, W) at the centre, scaled by the
    centre material's texture amplitude), plus the averaged haze colour.
    """
    mean = _footprint_mean if antialias else (lambda samples: samples)
    centre_material = canvas.material[1::2, 1::2] if antialias else canvas.material  # (H, W)
    grain = (1.0 + texture * np.take(scene.texture, centre_material)) * scene.gain  # (H, W)
    surface = canvas.shade * (1.0 - canvas.haze)  # (S_h, S_w) share of the surface colour
    haze = mean(canvas.haze) * scene.gain  # (H, W)
    channels = [mean(np.take(scene.palette[:, c], canvas.material) * surface) * grain + haze * scene.haze[c]
                for c in range(3)]  # 2-D work per channel is much faster than (..., 3) broadcasts
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)  # (H, W, 3)


def render_scene(scene: Scene, size: tuple[int, int], window=FULL_WINDOW, antialias: bool = True) -> dict:
    """Render ``scene`` at ``size=(H, W)`` over ``window=(x0, y0, x1, y1)`` (x0 < x1, y0 < y1).

    Returns numpy arrays: ``label`` (H, W) int64 Cityscapes label ids and ``instance``
    (H, W) int64 (0 for stuff, ``label * 1000 + k`` for cars and people), both sampled at
    the pixel centres of :func:`~posgen_lib.grid.coordinate_grid`, and ``image``
    (H, W, 3) float32 in [0, 1]: with ``antialias`` each pixel's average over its footprint
    (3 x 3 samples by the trapezoid rule, shared with the neighbours), else point samples.
    """
    x0, y0, x1, y1 = (float(v) for v in window)
    if not (x0 < x1 and y0 < y1):
        raise ValueError(f"window={tuple(window)} must have x0 < x1 and y0 < y1")
    grid = coordinate_grid(size, window, dtype=torch.float64)  # (2, H, W)
    us, vs = grid[0, 0].numpy(), grid[1, :, 0].numpy()  # (W,), (H,)
    canvas = _rasterise(scene, _sample_positions(us, antialias), _sample_positions(vs, antialias))
    ids = canvas.ids[1::2, 1::2] if antialias else canvas.ids  # (H, W) the pixel centres
    thing = ids >= 1000
    return dict(label=np.where(thing, ids // 1000, ids).astype(np.int64),
                instance=np.where(thing, ids, 0).astype(np.int64),
                image=_photo(scene, canvas, _texture(scene, us, vs), antialias).astype(np.float32))


# --------------------------------------------------------------------------- dataset and gallery

class SyntheticStreets(torch.utils.data.Dataset):
    """Procedural street scenes generated on the fly, deterministic per ``(seed, split, index)``.

    An item is ``dict(label=(H, W) int64, instance=(H, W) int64, image=(3, H, W) float32
    in [-1, 1])`` at ``size=(H, W)``. :meth:`render` draws the same scene at any size or
    window. The splits are disjoint scene streams. With ``flip=True`` each item is
    mirrored left-right or not (a fixed choice per item, for training augmentation).
    """

    def __init__(self, size: tuple[int, int] = (64, 128), length: int = 1000, seed: int = 0,
                 split: str = "train", flip: bool = False):
        if split not in SPLITS:
            raise ValueError(f"split={split!r}: choose one of {', '.join(SPLITS)}")
        if len(size) != 2 or min(int(s) for s in size) < 1:
            raise ValueError(f"size={size} must be (H, W) with both sides at least 1 pixel")
        if int(length) < 0 or int(seed) < 0:
            raise ValueError(f"length={length} and seed={seed} must not be negative")
        self.size = (int(size[0]), int(size[1]))
        self.length, self.seed, self.split, self.flip = int(length), int(seed), split, bool(flip)

    def __len__(self) -> int:
        return self.length

    def _entropy(self, index: int) -> list[int]:
        index = int(index)
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} scenes")
        return [self.seed, SPLITS.index(self.split), index % self.length]

    def scene(self, index: int) -> Scene:
        """The parameters of scene ``index`` (before any flip)."""
        return sample_scene(np.random.default_rng(self._entropy(index)))

    def is_flipped(self, index: int) -> bool:
        """Whether item ``index`` is mirrored (its own random stream, apart from the scene's)."""
        return self.flip and bool(np.random.default_rng(self._entropy(index) + [1]).random() < 0.5)

    def __getitem__(self, index: int) -> dict:
        return self.render(index, self.size)

    def render(self, index: int, size: tuple[int, int] | None = None, window=FULL_WINDOW) -> dict:
        """Scene ``index`` (flipped as in ``self[index]``) at ``size`` over ``window``; item tensors."""
        flipped = self.is_flipped(index)
        x0, y0, x1, y1 = window
        out = render_scene(self.scene(index), size or self.size,
                           (-x1, y0, -x0, y1) if flipped else window)  # a mirrored window, then mirror back
        if flipped:
            out = {key: value[:, ::-1] for key, value in out.items()}
        image = np.ascontiguousarray(out["image"].transpose(2, 0, 1))  # (3, H, W)
        image *= 2.0
        image -= 1.0  # in numpy: torch's thread pool costs more than it saves on arrays this small
        return dict(label=torch.from_numpy(np.ascontiguousarray(out["label"])),
                    instance=torch.from_numpy(np.ascontiguousarray(out["instance"])), image=torch.from_numpy(image))

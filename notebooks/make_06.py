"""Writes the cells of notebooks/06_resolution_upscaling.ipynb.

The notebook's cells are kept in this script because they are long and carry
nbgrader metadata. Edit here, run ``.venv/bin/python notebooks/make_06.py``,
then run the notebook to fill in its outputs (docs/teaching.md, "Committing a
full run").
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []


def md(text: str, **meta) -> None:
    cells.append(new_markdown_cell(text.strip("\n"), metadata=meta))


def code(text: str, tags=(), **meta) -> None:
    if tags:
        meta["tags"] = list(tags)
    cells.append(new_code_cell(text.strip("\n"), metadata=meta))


def grader(grade_id: str, solution: bool, points: int = 0) -> dict:
    meta = {"grade": not solution, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if not solution:
        meta["points"] = points
    return {"nbgrader": meta}


def answer(grade_id: str) -> dict:
    return {"nbgrader": {"grade": True, "grade_id": grade_id, "locked": False, "points": 1, "schema_version": 3,
                         "solution": True, "task": False}}


md(r"""
# 06 · Resolution and upscaling

**Learning goals**

- Explain why a generator that computes every pixel on its own can render at any resolution, and follow
  the one band loop that does it.
- Use the `align_corners=True` coordinate convention: pixel centres, windows, what stays fixed when the
  resolution changes.
- Explain, and measure, why PosGen's coordinate upscaling ties bicubic interpolation of its own 1x output.
- Name the fair baselines (Lanczos, joint bilateral upsampling, SPADE's resampled features, SPADE's trunk
  at the output size) and what each needs.
- Describe any-resolution PosGen: a per-pixel head that reads the label map at the output resolution and is
  trained against ground truth at random scales; read its measured results, including where SPADE still wins.
- Bound the memory of large renders by evaluating the head in bands.
- Write an upscaling baseline yourself (joint bilateral upsampling guided by the labels) and derive the
  sub-pixel grid that any-resolution training's consistency term renders.

**Run time** on two CPU cores: about 33 s with `POSGEN_FAST=1` (tiny budgets, as in the tests), about 13 minutes with the full budgets the first time (it trains the SPADE baseline for 2,000 steps; later runs load it from the checkpoint cache).
""")

md(r"""
## 1. Per-pixel independence allows any resolution

PosGen keeps SPADE's trunk and replaces only the final $3\times3$ convolution. The trunk turns the semantic
map $m$ (at the labels' resolution $h \times w$) into a feature map $f = T(m) \in \mathbb{R}^{C \times h \times w}$;
the **pixel head** colours each output pixel $p$ from the feature at $p$ and $p$'s coordinate $c_p \in [-1, 1]^2$:

$$\hat y_p = H\big(f(c_p),\, c_p\big), \qquad
H(f, c) = \tanh\Big(L_3\,\mathrm{lrelu}\big(L_2\,\mathrm{lrelu}(L_1[\sin(W_f f + b_f),\; c,\; \sin(W_c c + b_c)])\big)\Big)$$

(LeakyReLU with slope 0.2, notebook 03).

Nothing in $H$ reads a neighbouring pixel, so to render at another resolution we pick new pixel centres,
read $f$ there by bilinear interpolation, and evaluate $H$. The trunk runs once, at 1x. Here is the library's
render: the trunk once, then the one band loop that every per-pixel generator goes through
(`G.decode(feat, query)` for a band of rows; the band size bounds the memory, section 8):
""")

code("""
import torch
import torch.nn.functional as F

import posgen_lib as pg

pg.course.source(pg.render)
""", tags=["setup"])

code("""
G = pg.pretrained("synthetic")  # the shipped PosGen (docs/model_card_synthetic.md)
streets = pg.data.SyntheticStreets(size=G.cfg.image_size, length=16, seed=0, split="test")
scene = streets[3]
sem = pg.course.views.semantics(G, scene)  # (1, 36, 64, 128): one-hot labels + instance edges
""")

md(r"""
## 2. Pixel centres: the `align_corners=True` convention

Coordinates name **pixel centres**. For an image $W$ pixels wide, column $j$ sits at
$x_j = -1 + 2j/(W - 1)$: $-1$ is the centre of the first column and $+1$ of the last one, at *every*
resolution ($y$ likewise). `pg.coordinate_grid((H, W))` returns them as a $(2, H, W)$ tensor, channel 0 = $x$.
With `align_corners=False` the values $\pm 1$ would be the outer *edges* of the border pixels instead. With
corners pinned, an upscaled grid covers exactly the same part of the scene and only the spacing shrinks,
from $2/(W-1)$ to $2/(W'-1)$.
""")

code("""
# NBVAL_CHECK_OUTPUT
grid = pg.coordinate_grid((3, 5))
print(tuple(grid.shape))
print(grid[0])
print(grid[1])
""")

md(r"""
Two consequences, checked on the shipped model: at the training size rendering *is* the forward pass, and at
$(2H - 1) \times (2W - 1)$ every other output pixel lies exactly on a 1x pixel centre, so those pixels
reproduce the 1x image: the new pixels lie *between* the old ones. A window $(x_0, y_0, x_1, y_1)$ rendered
at the pixel spacing of a full render gives exactly that crop of it.
""")

code("""
# NBVAL_CHECK_OUTPUT
h, w = G.cfg.image_size
one = pg.render(G, sem)
fine = pg.render(G, sem, size=(2 * h - 1, 2 * w - 1))
print("render at 1x == G(sem):", torch.equal(one, G(sem)))
print("1x pixel centres agree:", torch.allclose(fine[..., ::2, ::2], one, atol=1e-5))
full = pg.render(G, sem, scale=2)                                       # (1, 3, 128, 256)
xs, ys = pg.coordinate_grid(full.shape[-2:])[0, 0], pg.coordinate_grid(full.shape[-2:])[1, :, 0]
r0, r1, c0, c1 = 32, 95, 64, 191                                        # a crop, last row/column included
part = pg.render(G, sem, size=(r1 - r0 + 1, c1 - c0 + 1), window=(xs[c0], ys[r0], xs[c1], ys[r1]))
print("window render == crop of the full render:", torch.allclose(part, full[..., r0:r1 + 1, c0:c1 + 1], atol=1e-5))
for s in (0.5, 3.3):
    print(f"scale {s}: {tuple(pg.render(G, sem, scale=s).shape)}")
""")

md(r"""
## 3. Looking at resolution

The slider renders the scene at the chosen scale (renders are cached). **Every picture is shown 512 screen
pixels wide, enlarged or reduced with nearest-neighbour resampling**, so the 1x render (128 pixels wide) looks
coarse, each of its pixels a 4 x 4 block of screen pixels (at 0.5x an 8 x 8 block), and the 4x render (512 pixels
wide) is shown at its true size: what you see there is what the extra pixels hold. The toggle switches between
PosGen's coordinate upscaling and the any-resolution model of section 6, which reads the scene's label map
at each scale. The static figure after it shows the same renders, and below them the car on the left at
each scale's own pixel density.
""")

code("""
A = pg.pretrained("synthetic_anyres")  # any-resolution PosGen (section 6; docs/model_card_synthetic.md)
labels_at = pg.course.views.labels_at(A, streets, 3)  # scale -> the scene's semantics at that scale
pg.course.widgets.resolution_slider({"PosGen (coordinates)": G, "any-resolution PosGen": A}, scene,
                                    scales=(0.5, 1, 1.5, 2, 3.3, 4), labels_at=labels_at)
""")

code("""
pg.course.views.resolution_figure(G, scene, scales=(0.5, 1, 2, 3.3, 4), detail_centre=(-0.72, -0.1))
""")

md(r"""
Zooming is rendering an ever smaller window at a fixed number of pixels: at zoom 8, a 128 x 256 render
covers 1/8 of the scene's width, about 16 output pixels per label pixel. Left: the labels of the window
(nearest label pixel); right: PosGen. Class boundaries become smooth curves (bilinear features), and nothing
new appears inside a class.
""")

code("""
pg.course.widgets.zoom_explorer(G, scene, size=(128, 256), centre=(-0.72, -0.1), zoom=4)
""")

code("""
pg.course.views.zoom_figure(G, scene, centre=(-0.72, -0.1), zooms=(1, 2, 4, 8), size=(64, 128))
""")

md(r"""
The label map is the generator's only input, so we can draw on it: repaint a box (all pixels, or only one
class) and render. Repainted cars and people get a new instance id, so the instance-edge channel outlines
them as one object.
""")

code("""
pg.course.widgets.label_editor(G, scene, scale=2)
""")

code("""
pg.course.views.edit_figure(G, scene, box=(0.1, 0.25, 0.5, 0.7), from_class=None, to_class="car")
""")

md(r"""
## 4. Why coordinate upscaling ties interpolation

The procedural streets render any scene at any resolution, so we can score a 4x render against the scene's
own 4x photo. Upscaling is hard where classes meet: away from boundaries every method paints a flat class
interior. The **boundary band** is the set of output pixels within one trunk cell (4 output pixels at 4x) of
a class boundary of the 4x labels; we score PSNR there, and a **sharpness ratio**: the band's gradient
energy over the ground truth's (1 = as sharp as the photo). Written out (the library's
`pg.eval.metrics.boundary_band` and `pixel_scores` do the same):
""")

code("""
def band(label_hr, radius):
    \"\"\"(N, H, W) bool: pixels within `radius` (Chebyshev) of a pixel whose 4-neighbour has another class.\"\"\"
    edge = torch.zeros_like(label_hr, dtype=torch.bool)
    dx, dy = label_hr[..., :, 1:] != label_hr[..., :, :-1], label_hr[..., 1:, :] != label_hr[..., :-1, :]
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return F.max_pool2d(edge[:, None].float(), 2 * radius + 1, 1, radius)[:, 0] > 0


def band_scores(fake, real, mask):
    \"\"\"(band PSNR in dB, sharpness ratio) of images in [-1, 1] (N, 3, H, W) over the (N, H, W) mask.\"\"\"
    mse = ((fake - real) ** 2).mean(1)[mask].mean()
    grad = lambda x: F.pad(x.diff(dim=-1), (0, 1)) ** 2 + F.pad(x.diff(dim=-2), (0, 0, 0, 1)) ** 2  # noqa: E731
    return float(10 * torch.log10(4 / mse)), float(grad(fake).sum(1)[mask].sum() / grad(real).sum(1)[mask].sum())


count = pg.budget(8, 2)
low = pg.eval.scenes.synthetic_scenes(pg.preset("synthetic"), count, 1.0)   # 1x test scenes
high = pg.eval.scenes.synthetic_scenes(pg.preset("synthetic"), count, 4.0)  # the same scenes at 4x
mask = band(high.label, radius=4)                                            # (N, 256, 512)
print("the band written out == the library's:", torch.equal(mask, pg.eval.metrics.boundary_band(high.label, 4)))
""")

md(r"""
Now PosGen's coordinate upscaling against bicubic interpolation of its own 1x output, on the same scenes:
""")

code("""
low_sem = pg.data.to_semantics(low.label, low.instance)
with torch.no_grad():
    coordinates = pg.upscale(G, low_sem, scale=4, method="coordinates")
    bicubic = pg.upscale(G, low_sem, scale=4, method="bicubic")
for name, fake in (("coordinates", coordinates), ("bicubic of the 1x output", bicubic)):
    psnr, sharpness = band_scores(fake, high.image, mask)
    print(f"{name:26s} band PSNR {psnr:5.2f} dB   sharpness {sharpness:.2f}")
""")

md(r"""
They tie, and both are far blurrier than the photo. The reason is in the formula of section 1: between two
trunk cells the head sees $f(c_p)$, a *bilinear blend* of the neighbouring cells' features. Across a class
boundary it paints a blend of the two classes: a smooth ramp, as interpolation of the 1x output does. The
head never saw a pixel finer than 1x during training, and the 1x labels hold no sub-pixel information about
where the boundary lies. Coordinates alone cannot invent it. The original PosGen report (Z. Huang, an
unpublished course report for CMU 16-726, spring 2021) proposed exactly this way of rendering above the
labels' resolution, enlarging the coordinate grid and interpolating the features bilinearly, and showed 2x
renders of COCO-Stuff scenes as pictures; it did not measure them against ground truth, which is what this
section adds.

## 5. Fair baselines: what each method needs

Every way this project makes an image above the labels' resolution is one entry of one registry,
`pg.rendering.METHODS` (`pg.upscale(G, sem, scale, method=..., labels=...)`). Some need only the 1x labels;
some need the **label map at the output resolution** (the procedural streets have one at any scale;
Cityscapes photos come at 4x SPADE's training size). A fair comparison says which:
""")

code("""
# NBVAL_CHECK_OUTPUT
B = pg.build_generator(G.cfg.with_generator("spade")).eval()  # only its kind matters for this table
print(pg.course.lessons.upscaling.methods_table({"PosGen": G, "SPADE": B, "anyres": A}))
""")

md(r"""
- **bicubic / lanczos**: interpolation of a generator's 1x output. Lanczos-3 (PIL) is sharper than bicubic
  and rings a little at edges.
- **joint_bilateral_hr**: joint bilateral upsampling (Kopf et al., SIGGRAPH 2007) of the 1x output with the
  high-resolution labels as the guide: each output pixel averages only the 1x pixels of its own class, so
  boundaries follow the fine labels. No training.
- **features_bilinear**: what SPADE can do without new labels: resample its trunk features bilinearly to the
  output size and apply its own final $3\times3$ conv. (So the statement "SPADE cannot upscale" is wrong; it
  cannot render a *single pixel or window* on its own, because its conv reads neighbours at the output
  resolution.)
- **trunk_nearest / trunk_hr**: run the whole generator at the output size, on the nearest-upsampled 1x
  labels or on the true high-resolution labels. The trunk's cost grows with the output (16x at 4x), and it
  sees label statistics it never trained on.
- **coordinates / coordinates_hr**: a per-pixel generator's own way: trunk at 1x, decoder at every output
  pixel; `_hr` gives the decoder the label map at the output resolution.

## 6. Any-resolution PosGen

To render *detail* above 1x, a head needs two things the coordinates lack, found in the literature:

1. **High-resolution supervision** (LIIF, Chen et al., CVPR 2021: a per-pixel MLP over a conv trunk, trained
   at random scales against high-resolution targets, beats bicubic by about 2-4 dB at 2x-4x on DIV2K). LIIF's
   ablations vary the decoder (feature unfolding, local ensemble, the cell size input) and every variant
   keeps the high-resolution targets, so they do not say how much of its gain the supervision brings. This
   notebook compares with and without it directly: PosGen's coordinate upscaling (section 4, no target finer
   than 1x) against the any-resolution model trained at random scales (section 7).
2. **The label map at the output resolution** (ASAP-Net, Rott Shaham et al., CVPR 2021: per-pixel networks
   that read the full-resolution labels put the edges where the labels say).

`pg.AnyResGenerator` keeps PosGen's trunk (at 1x) and gives each output pixel a head on: the trunk feature
at the pixel (bilinear), an embedding of the semantics at the pixel at output resolution, the output pixel
size, the coordinates and their Fourier features. Its decode is the whole mechanism:
""")

code("""
pg.course.source(pg.AnyResGenerator.decode)
""")

code("""
pg.course.source(pg.models.anyres.AnyResHead.forward_pixels)
""")

md(r"""
Pixel independence still holds *given the feature map and the label map*: decode any set of pixels alone and
they equal the same pixels of a full render. Here 40 scattered pixels of a 3.3x render, decoded as one band:
""")

code("""
# NBVAL_CHECK_OUTPUT
hr33 = pg.course.views.semantics(A, streets.render(3, size=(211, 422)))  # the scene's labels at 3.3x
with torch.no_grad():
    full = pg.render(A, sem, size=(211, 422), labels=hr33)
    gen = torch.Generator().manual_seed(0)
    rows, cols = torch.randint(0, 211, (40,), generator=gen), torch.randint(0, 422, (40,), generator=gen)
    coords = pg.coordinate_grid((211, 422))[:, rows, cols][:, None]    # (2, 1, 40): 40 pixels as one band
    query = pg.PixelQuery(coords, spacing=(127 / 421, 63 / 210), semantics=hr33[:, :, rows, cols][:, :, None])
    alone = A.decode(A.features(sem), query)[:, :, 0]                  # (1, 3, 40)
print("40 pixels decoded alone == the full render:", torch.allclose(alone, full[:, :, rows, cols], atol=1e-4))
""")

md(r"""
**Any-resolution training** is the idea of Chai et al. (ECCV 2022): supervise every scale without rendering
whole images at the largest one, by drawing a scale per image and training on fixed-size patches of the
image at that scale, so that the cost of a step does not grow with the scale. They train an unconditional
generator with a patch discriminator on real photos of many sizes. **The choices here are this project's**:
each training image draws $s \in [1, 4]$ and four $32 \times 32$ patches of the $s$-times image, half of them
centred on class boundaries; their ground truth comes from the procedural scene rendered at that scale (no
photo has to be resampled); the losses are an L1 reconstruction of the patches, a conditional patch
discriminator and a consistency term (below), and only the new head trains, on the frozen trunk of the
shipped PosGen. One training item:
""")

code("""
from posgen_lib.data.patches import ScaledPatches

train_streets = pg.data.SyntheticStreets(size=(64, 128), length=8, seed=0, split="train")
item = ScaledPatches(train_streets, scale_max=4.0, patch=32, count=4, boundary=0.5, seed=0)[2]
pg.course.lessons.upscaling.patches_figure(item, (64, 128))
""")

md(r"""
The objective per step (`posgen_lib.train.anyres.AnyResObjective`): L1 between the rendered patches and the
ground truth (distortion), a conditional discriminator on the high-resolution patches (texture), and a
consistency term (the $k \times k$ average of a render at $k$ sub-pixels per 1x pixel equals the 1x output).
The shipped model trains only the new head, for 1,500 steps, on the frozen trunk of the shipped PosGen:
""")

code("""
pg.course.source(pg.train.anyres.AnyResObjective.generator_losses)
""")

md(r"""
One scene at 4x, cropped to the left of the street, by the main methods (the SPADE baseline here is
trained in the cell below with the same recipe as the shipped PosGen, or loaded if present;
**about 6 minutes on two CPU cores** the first time). Models the notebooks train go to a cache folder
outside the notebook's own folder, `pg.course.checkpoint_folder(...)` (set `POSGEN_CKPT_DIR` to move it):
""")

code("""
cfg = pg.preset("synthetic")
cfg.model.generator, cfg.train.steps, cfg.train.ema_decay = "spade", pg.budget(2000, 3), 0.999
B = pg.load_or_train(cfg, pg.course.checkpoint_folder("06_synthetic_spade", cfg))  # the cache
runs = {"PosGen coordinates": (G, "coordinates"), "bicubic of anyres 1x": (A, "bicubic"),
        "joint bilateral (HR labels)": (A, "joint_bilateral_hr"), "SPADE trunk on HR labels": (B, "trunk_hr"),
        "SPADE features resampled": (B, "features_bilinear"), "any-resolution (HR labels)": (A, "coordinates_hr")}
pg.course.lessons.upscaling.comparison_figure(runs, streets, 3, scale=4, crop=(slice(64, 192), slice(0, 256)))
""")

md(r"""
## 7. Measured results

`posgen experiment` trains PosGen, the SPADE baseline and the any-resolution head with three patch-GAN weights
(0.03, 0.1 and 0.3), each on three seeds (the 1x budgets are equal: 2,000 steps with an EMA), and scores them
on 64 held-out test scenes at 1x, 2x, 3.3x, 4x and 8x (8x is twice the largest training scale). Besides mIoU
and KID it measures what an upscaler is for:

- **fidelity**: band PSNR (within one trunk cell of a class boundary), interior PSNR, and PSNR after a
  low-pass filter (is the colour under the texture right?);
- **realism where it is judged**: patch-KID, the KID of thousands of 32x32 crops centred on class
  boundaries and, apart, inside regions (64 whole images are too few for a KID);
- **texture**: the gradient energy on the label edges (edge energy) and inside regions (texture energy),
  each as a ratio to the photo's (1 = the photo's).

The repository's `docs/results.md` has the whole report; the package ships its numbers (`docs/results.json`),
read here. The main methods at 4x (mean ± sd over three seeds, best band PSNR first; higher is better for
mIoU and PSNR, lower for KID, 1 is best for the energies):
""")

code("""
results = pg.course.lessons.upscaling.load_results()  # the experiment's numbers, shipped with the package
point, base = results["meta"]["operating_point"], results["meta"]["base"]
print(f"{len(results['rows'])} scored rows; seeds {results['meta']['experiment']['seeds']}; operating point {point}")
print(pg.course.lessons.upscaling.results_table(results, 4.0, generators=(point, base, "PosGen", "SPADE")))
""")

md(r"""
And the core methods at the other scales (8x is twice the largest training scale):
""")

code("""
for scale in (2.0, 3.3, 8.0):
    print(f"--- {scale:g}x")
    print(pg.course.lessons.upscaling.results_table(results, scale, generators=(point, base, "PosGen", "SPADE")))
""")

md(r"""
Distortion and perception pull against each other (Blau & Michaeli, CVPR 2018): L1 alone paints each class's
conditional mean (edges from the labels, no texture), and texture that is plausible but not the photo's own
is penalised twice by PSNR. The model's texture knob walks that trade-off at render time, and the
discriminator weight sets how the texture was learned. The experiment scores every weight at every amplitude:
each line below is one weight, from $t = 0$ (the faithful base, top right) to $t = 1$; the single points are
the methods it competes with.
""")

code("""
pg.course.lessons.upscaling.front_figure(results)  # band PSNR against patch-KID at 4x, mean ± sd over seeds
""")

md(r"""
Read it from the top right. At $t = 0$ the model is its faithful base, trained with L1 alone: the best band PSNR
of any method here (18.0 dB) and the worst patch-KID, because it paints each region flat (the three weights'
lines start at the same point: the discriminator trains only the texture branch). Turning the knob up to
$t = 0.5$ buys realism with fidelity at every weight: a third off both patch-KIDs at $t = 0.25$ for 0.2 dB,
the lowest boundary patch-KID at $t = 0.5$ for 0.6 dB. Past $t = 0.5$ both axes get worse: the texture
reaches the photo's energy but not its kind (a noise-driven speckle where the photos have windows and
paintwork), and the patch-KID of the interiors sees it. Those points are off the front.

The shipped model sits on it at weight 0.3 and $t = 0.5$ (`pg.pretrained("synthetic_anyres")`, chosen from
this figure): it beats joint bilateral upsampling, which reads the same 4x labels, on both patch-KIDs by more
than the spread over its three training runs and ties it on band PSNR. No point beats joint bilateral on all three at once: where
band PSNR wins ($t \le 0.25$) the boundary patch-KID only ties. Joint bilateral is a strong reference because
its edges are the labels' own; what it cannot do is texture (its texture energy is 0.01).
""")

md(r"""
## 8. On real photos: CamVid at 4x

Everything so far used procedural scenes, whose ground truth can be drawn at any size. CamVid (notebook 04)
gives a harder test: labels at 90x120 and the **real 360x480 photo** as the 4x ground truth. The package
ships two CamVid models: `camvid`, PosGen trained on the 1x frames (notebook 05), and `camvid_anyres`, its
frozen trunk and head plus a detail head trained against the native photos in this project's second form:
a **faithful base** (trained with L1, so it aims at the photo's conditional mean) plus a **zero-mean texture
residual**, driven by per-pixel noise and modulated SPADE-style by the high-resolution labels, that only the
patch discriminator trains. The amplitude $t \in [0, 1]$ of the texture is a knob at render time:
`pg.render(A, sem, ..., texture=t)` or `posgen render --texture T`; $t = 0$ is the base alone. Move the scale
and the knob (active for the any-resolution model, shown first):
""")

code(r"""
from posgen_lib.course.lessons import real_photos

G_camvid, A_camvid = pg.pretrained("camvid"), pg.pretrained("camvid_anyres")
camvid = real_photos.camvid_val()  # None, with a note, without a CamVid copy on this machine
if camvid is not None:
    frame = 3
    pg.course.show(pg.course.widgets.resolution_slider(
        {"any-resolution PosGen": A_camvid, "PosGen (coordinates)": G_camvid}, camvid.at_scale(frame, 1),
        scales=(1, 2, 4), label_set="camvid", labels_at=real_photos.labels_at(A_camvid, camvid, frame)))
""")

md(r"""
The same frame as a static figure: a window at 4x, the real photo next to bicubic interpolation of PosGen's
1x render and the any-resolution model at its base ($t = 0$), its default amplitude and full texture:
""")

code(r"""
if camvid is not None:
    pg.course.show(pg.course.as_jpeg(real_photos.upscaling_figure(G_camvid, A_camvid, camvid, index=frame)))
""")

md(r"""
PSNR against the real photos at 4x, next to bicubic interpolation of the *real* 1x photo (a reference no
generator can reach this way: it starts from the photo itself). Over all 101 val frames this takes about
a minute and a quarter in the full run:
""")

code(r"""
if camvid is not None:
    print(real_photos.upscaling_scores(G_camvid, A_camvid, camvid, count=pg.budget(len(camvid), 2)))
""")

md(r"""
On all 101 val frames: the base alone ($t = 0$) is the most faithful render, 17.4 dB, 1.9 dB above bicubic
interpolation of PosGen's 1x image (15.5 dB): the native labels put the edges where the photo has them (the
cyclists' outlines above). The default amplitude, $t = 0.875$, costs 0.9 dB (16.5 dB) and full texture 1.2 dB
(16.2 dB), and what the texture paints is a coarse speckle rather than leaves and paintwork: section 7's
trade-off between distortion and perception, on real photos, with the knob as the dial. The default was read
off CamVid's own front (three training seeds, docs/results_camvid.md): at $t = 0.75$ and at $t = 0.875$ the
render beats joint bilateral upsampling of its 1x output on band PSNR and on patch-KID at boundaries and in
interiors, at $t = 1$ band PSNR only ties; the default is the more textured of the two points that win.
Bicubic interpolation of the *real* 1x photo reaches 24 dB: here the 1x image, not the upscaler, limits every
generator.
""")

md(r"""
## 9. Chunked rendering: a memory bound

The output buffer of a render is unavoidable: $3HW$ floats. The trunk features cost $Chw$ floats at the
labels' resolution, and the head's activations about $(F + 2\,\text{hidden})$ floats *per pixel evaluated at
once*. Because pixels are independent, `pg.render` evaluates bands of at most `max_chunk_pixels` pixels
(section 1), so the working memory (peak minus output) does not grow with the output size.
`pg.perf.memory.PeakTensorMemory` measures the peak by counting every tensor PyTorch allocates and frees
inside a `with` block:
""")

code("""
rows = []
for scale in (2, 4, 8):
    for chunk in (1 << 12, 1 << 16, 1 << 30):  # 4,096-pixel bands, 65,536-pixel bands, one pass
        with pg.perf.memory.PeakTensorMemory() as mem:
            out = pg.render(G, sem, scale=scale, max_chunk_pixels=chunk)  # (1, 3, 64*scale, 128*scale)
        output_mib = out.numel() * out.element_size() / 2**20
        row = pg.course.lessons.upscaling.MemoryRow(scale, chunk, output_mib, mem.peak_bytes / 2**20)
        rows.append(row)
        print(f"scale {scale}, bands of {chunk:>13,} px: output {output_mib:6.1f} MiB, "
              f"working memory {row.working_mb:7.1f} MiB")
        del out
pg.course.lessons.upscaling.memory_figure(rows)
""")

md(r"""
## Exercises

The setup cell below loads nothing from `posgen_lib` that would solve the exercises: write them with torch.
""")

code("""
import copy

import torch
import torch.nn.functional as F
""", tags=["setup"])

md(r"""
### Exercise 1: the label at each output pixel (3 points)

An any-resolution head given no high-resolution labels reads, at each output pixel, the label of the
**nearest 1x pixel centre** in the `align_corners=True` frame. Write `nearest_labels(label, size)`: for an
$(h, w)$ integer label map return the $(H, W)$ map whose pixel $(i, j)$ holds the label of the 1x pixel
whose centre is nearest to output pixel $(i, j)$'s centre. Careful: `F.interpolate(..., mode="nearest")`
uses another convention, and so does `mode="nearest-exact"`. Ties (an output centre exactly halfway) may go
either way.
""")

code("""
def nearest_labels(label: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    \"\"\"(h, w) integer labels -> (H, W): the label of the nearest 1x pixel centre (align_corners=True).\"\"\"
    ### BEGIN SOLUTION
    h, w = label.shape
    height, width = size
    rows = torch.round(torch.arange(height, dtype=torch.float64) * (h - 1) / max(height - 1, 1)).long()
    cols = torch.round(torch.arange(width, dtype=torch.float64) * (w - 1) / max(width - 1, 1)).long()
    return label[rows[:, None], cols[None, :]]
    ### END SOLUTION
""", **grader("06-ex1-solution", True))

code("""
label = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
out = nearest_labels(label, (5, 7))
assert tuple(out.shape) == (5, 7), f"expected (H, W) = (5, 7), got {tuple(out.shape)}"
assert out.dtype == label.dtype, "labels stay integers"
# output centres x = -1, -2/3, ..., 1; label centres x = -1, -1/3, 1/3, 1: columns 0, 2, 4, 6 sit exactly on them
assert out[0, [0, 2, 4, 6]].tolist() == [0, 1, 2, 3], "an output centre on a label centre takes that label"
assert out[0, 1] in (0, 1) and out[0, 3] in (1, 2) and out[0, 5] in (2, 3), "halfway: either neighbour"
assert out[[0, 2, 4], 0].tolist() == [0, 4, 8], "the corners are pinned: the last output row sits on the last label row"
### BEGIN HIDDEN TESTS
big = torch.arange(6 * 9).view(6, 9)
for size in ((6, 9), (13, 27), (23, 31), (3, 4)):
    got = nearest_labels(big, size)
    xs = torch.linspace(-1, 1, size[1], dtype=torch.float64)
    ys = torch.linspace(-1, 1, size[0], dtype=torch.float64)
    cx, cy = torch.linspace(-1, 1, 9, dtype=torch.float64), torch.linspace(-1, 1, 6, dtype=torch.float64)
    dist_x = (xs[:, None] - cx[None]).abs()
    dist_y = (ys[:, None] - cy[None]).abs()
    ok_x = dist_x <= dist_x.min(1, keepdim=True).values + 1e-9  # every nearest column (ties: either)
    ok_y = dist_y <= dist_y.min(1, keepdim=True).values + 1e-9
    row, col = got // 9, got % 9
    assert bool(ok_y[torch.arange(size[0])[:, None], row].all()), f"rows wrong at size {size}"
    assert bool(ok_x[torch.arange(size[1])[None, :], col].all()), f"columns wrong at size {size}"
assert torch.equal(nearest_labels(big, (6, 9)), big), "at the labels' own size nothing changes"
### END HIDDEN TESTS
""", **grader("06-ex1-tests", False, 3))

md(r"""
### Exercise 2: sampling the trunk features (2 points)

Write `sample_features(feature, coords)`: sample a feature map $(B, C, h, w)$ bilinearly at the coordinates
`coords` $(2, H, W)$ (channel 0 = $x$, channel 1 = $y$, `align_corners=True` frame) and return
$(B, C, H, W)$. This is how PosGen reads its trunk features at any grid. Use
`torch.nn.functional.grid_sample`, and read its documentation: which shape does `grid` need, and in which
order does it expect $x$ and $y$?
""")

code("""
def sample_features(feature, coords):
    \"\"\"Bilinearly sample feature (B, C, h, w) at coords (2, H, W) in the align_corners=True frame -> (B, C, H, W).\"\"\"
    ### BEGIN SOLUTION
    grid = coords.permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)  # (B, H, W, 2), last dim (x, y)
    return F.grid_sample(feature, grid, mode="bilinear", align_corners=True)
    ### END SOLUTION
""", **grader("06-ex2-solution", True))

code("""
f = torch.arange(24, dtype=torch.float32).view(1, 2, 3, 4)  # B=1, C=2, h=3, w=4
ys, xs = torch.linspace(-1, 1, 3), torch.linspace(-1, 1, 4)
centres = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1])  # (2, 3, 4), channel 0 = x
out = sample_features(f, centres)
assert tuple(out.shape) == (1, 2, 3, 4), f"expected (B, C, H, W) = (1, 2, 3, 4), got {tuple(out.shape)}"
assert torch.allclose(out, f, atol=1e-5), "sampling at the feature map's own pixel centres must return it unchanged"
between = torch.tensor([[[-2 / 3]], [[-1.0]]])  # x halfway between columns 0 and 1, y on row 0
assert torch.allclose(sample_features(f, between)[0, :, 0, 0], (f[0, :, 0, 0] + f[0, :, 0, 1]) / 2), \\
    "halfway between two pixel centres, bilinear sampling gives their mean"
row_1 = torch.tensor([[[-1.0]], [[0.0]]])  # x = -1 (column 0), y = 0 (the centre of row 1 of 3)
assert torch.allclose(sample_features(f, row_1)[0, :, 0, 0], f[0, :, 1, 0]), "coords channel 0 is x, channel 1 is y"
### BEGIN HIDDEN TESTS
batch = torch.randn(3, 5, 4, 6)
middle = sample_features(batch, torch.zeros(2, 1, 1))  # (0, 0) lies between rows 1-2 and columns 2-3
assert tuple(middle.shape) == (3, 5, 1, 1)
assert torch.allclose(middle[..., 0, 0], batch[:, :, 1:3, 2:4].mean((2, 3)), atol=1e-5)
### END HIDDEN TESTS
""", **grader("06-ex2-tests", False, 2))

md(r"""
### Exercise 3: the sub-pixel grid of the consistency term, derived (2 points)

Any-resolution training renders the model at $k \times k$ sub-pixels of every 1x pixel and asks their average
to equal the 1x output (section 6). Where are those sub-pixels? Derive them. On one axis of $n$ pixels the
centres are $x_j = -1 + j\Delta$ with $\Delta = 2/(n-1)$, and pixel $j$'s footprint is
$[x_j - \Delta/2,\ x_j + \Delta/2]$. Cut it into $k$ equal parts: give the $k$ centres as $x_j$ plus offsets,
show that their mean is $x_j$, and that consecutive sub-pixels are $\Delta/k$ apart even across the border
between two pixels. Then write `subpixel_grid(size, k)`: the $(2, k h, k w)$ coordinates (channel 0 = $x$) of
all sub-pixels of an $(h, w)$ image, ordered so that rows $ki \dots ki + k - 1$ and columns
$kj \dots kj + k - 1$ hold pixel $(i, j)$'s. (It is a uniform grid: which window, in the sense of
`pg.coordinate_grid(size, window)`, does it cover?)
""")

code("""
def subpixel_grid(size, k):
    \"\"\"(2, k h, k w): the k x k sub-pixel centres of every pixel of an (h, w) image, evenly tiling each pixel.\"\"\"
    ### BEGIN SOLUTION
    h, w = size
    offsets = (torch.arange(k, dtype=torch.float64) + 0.5) / k - 0.5  # (k,): in pixels, mean 0, 1/k apart
    ys = (torch.arange(h, dtype=torch.float64)[:, None] + offsets).flatten() * 2 / (h - 1) - 1  # (k h,)
    xs = (torch.arange(w, dtype=torch.float64)[:, None] + offsets).flatten() * 2 / (w - 1) - 1  # (k w,)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])
    ### END SOLUTION
""", **grader("06-ex3-solution", True))

code("""
g1 = subpixel_grid((3, 5), 1).double()
assert g1.shape == (2, 3, 5) and torch.allclose(g1[0, 0], torch.linspace(-1, 1, 5, dtype=torch.float64)), "k = 1: the pixel centres"
g = subpixel_grid((3, 5), 4).double()
assert g.shape == (2, 12, 20), g.shape
means = g.reshape(2, 3, 4, 5, 4).mean(dim=(2, 4))  # the average of each pixel's 4 x 4 sub-pixels
centres = torch.stack(torch.meshgrid(torch.linspace(-1, 1, 3, dtype=torch.float64),
                                     torch.linspace(-1, 1, 5, dtype=torch.float64), indexing="ij")[::-1])
assert torch.allclose(means, centres, atol=1e-6), "each pixel's sub-pixels average to its centre"
steps = g[0, 0, 1:] - g[0, 0, :-1]
assert torch.allclose(steps, torch.full_like(steps, 0.5 / 4), atol=1e-6), "evenly spaced Delta / k = (2 / 4) / 4"
assert torch.allclose(g[1, :, 0], g[1, :, 7]) and torch.allclose(g[0, 0], g[0, 11]), "x along rows, y down columns"
### BEGIN HIDDEN TESTS
big = subpixel_grid((64, 128), 3).double()
assert big.shape == (2, 192, 384)
assert abs(big[0, 0, 0].item() - (-1 - (1 / 3) * 2 / 127)) < 1e-6, "the first sub-pixel is (k - 1) / (2k) pixel before x_0"
assert abs(big[1, -1, 0].item() - (1 + (1 / 3) * 2 / 63)) < 1e-6
m = big.reshape(2, 64, 3, 128, 3).mean(dim=(2, 4))
assert abs(m[0, 5, 17].item() - (-1 + 2 * 17 / 127)) < 1e-6 and abs(m[1, 5, 17].item() - (-1 + 2 * 5 / 63)) < 1e-6
two = subpixel_grid((2, 2), 2).double()
assert torch.allclose(two[0, 0], torch.tensor([-1.5, -0.5, 0.5, 1.5], dtype=torch.float64), atol=1e-6)
### END HIDDEN TESTS
""", **grader("06-ex3-tests", False, 2))

md(r"""
### Exercise 4: an upscaling baseline, joint bilateral upsampling (3 points)

Section 5's `joint_bilateral_hr` upscales a 1x image with the high-resolution labels as its guide. Write a
version of it yourself. For every output pixel $p$ of an $(H, W)$ output, let $(u_p, v_p)$ be its centre in
**1x pixel units** (row and column; the `align_corners=True` frame: output row $i$ sits at
$u = i\,(h-1)/(H-1)$) and let $q$ run over the 1x pixels within `radius` rows and columns of the 1x pixel
nearest to it (`torch.round`; skip those outside the image). Weigh each by

$$w_{pq} = \exp\!\Big(-\frac{(u_p - a_q)^2 + (v_p - b_q)^2}{2 s^2}\Big)\; \big[\ell_{1x}(q) = \ell_{hr}(p)\big],$$

with $(a_q, b_q)$ the 1x pixel's row and column and $s$ = `spread` (in 1x pixels), and return the weighted mean
$\sum_q w_{pq}\,x_q / \sum_q w_{pq}$ of the 1x colours $x_q$. Where no $q$ has $p$'s class, drop the label
term (plain Gaussian weights), so that every pixel gets a colour. `joint_bilateral(image, labels_1x,
labels_hr, radius, spread)`: `image` $(B, 3, h, w)$, `labels_1x` $(B, h, w)$, `labels_hr` $(B, H, W)$ →
$(B, 3, H, W)$. After exercise 5, a cell compares yours with bicubic on the any-resolution model's 1x images.
""")

code("""
def joint_bilateral(image, labels_1x, labels_hr, radius=1, spread=1.0):
    \"\"\"Upscale image (B, 3, h, w) to labels_hr's (H, W): per output pixel, the Gaussian-weighted mean of the 1x
    pixels near it that have its class (all of them if none has).\"\"\"
    ### BEGIN SOLUTION
    batch, _, h, w = image.shape
    height, width = labels_hr.shape[-2:]
    u = torch.arange(height, dtype=torch.float64) * (h - 1) / max(height - 1, 1)  # (H,): rows in 1x pixels
    v = torch.arange(width, dtype=torch.float64) * (w - 1) / max(width - 1, 1)  # (W,)
    pixels = image.double()
    num = torch.zeros(batch, 3, height, width, dtype=torch.float64)
    den = torch.zeros(batch, 1, height, width, dtype=torch.float64)
    any_num, any_den = torch.zeros_like(num), torch.zeros_like(den)  # without the label term
    for da in range(-radius, radius + 1):
        a = torch.round(u).long() + da  # (H,): a 1x row near each output row
        for db in range(-radius, radius + 1):
            b = torch.round(v).long() + db  # (W,)
            inside = ((a >= 0) & (a < h))[:, None] & ((b >= 0) & (b < w))[None, :]  # (H, W)
            rows, cols = a.clamp(0, h - 1)[:, None], b.clamp(0, w - 1)[None, :]
            spatial = torch.exp(-((u - a)[:, None] ** 2 + (v - b)[None, :] ** 2) / (2 * spread ** 2)) * inside
            values = pixels[:, :, rows, cols]  # (B, 3, H, W): the 1x colour at q
            same = (labels_1x[:, rows, cols] == labels_hr)[:, None].double()  # (B, 1, H, W): q has p's class
            num += spatial * same * values
            den += spatial * same
            any_num += spatial * values
            any_den += spatial
    out = torch.where(den > 0, num / den.clamp(min=1e-300), any_num / any_den)
    return out.to(image.dtype)
    ### END SOLUTION
""", **grader("06-ex4-solution", True))

code("""
flat = torch.full((1, 3, 4, 6), 0.25)
labels_a = torch.zeros(1, 4, 6, dtype=torch.long)
out = joint_bilateral(flat, labels_a, torch.zeros(1, 7, 11, dtype=torch.long))
assert out.shape == (1, 3, 7, 11), out.shape
assert torch.allclose(out, torch.full_like(out, 0.25)), "a flat image stays flat"
two = torch.zeros(1, 4, 6, dtype=torch.long)
two[..., 3:] = 1  # 1x labels: class 0 in columns 0-2, class 1 in columns 3-5
image = torch.where(two[:, None] == 1, 0.5, -0.5).expand(1, 3, 4, 6).float()  # each class its own flat colour
hr = torch.zeros(1, 7, 11, dtype=torch.long)
hr[..., 5:] = 1  # the fine labels put the boundary half a 1x pixel further left (x = 2.5 in 1x pixels)
out = joint_bilateral(image, two, hr)
assert torch.allclose(out, torch.where(hr[:, None] == 1, 0.5, -0.5).expand(1, 3, 7, 11)), \\
    "the edge follows the fine labels: every output pixel takes its own class's colour"
alone = torch.ones(1, 7, 11, dtype=torch.long) * 2  # a class no 1x pixel has: plain Gaussian weights
out = joint_bilateral(image, two, alone)
assert torch.isfinite(out).all() and (out[0, 0, :, 0] == -0.5).all() and out.dtype == image.dtype
same = joint_bilateral(image, two, two, radius=0)
assert torch.allclose(same, image), "at the 1x size with radius 0 nothing changes"
### BEGIN HIDDEN TESTS
gen = torch.Generator().manual_seed(3)
img = torch.rand(2, 3, 5, 4, generator=gen) * 2 - 1
lab = torch.randint(0, 3, (2, 5, 4), generator=gen)
lab_hr = torch.randint(0, 3, (2, 9, 7), generator=gen)
got = joint_bilateral(img, lab, lab_hr, radius=1, spread=0.7)
assert torch.allclose(got[0, :, 4, 3], torch.tensor([0.2983, -0.6186, 0.5443]), atol=1e-3), got[0, :, 4, 3]
assert torch.allclose(got.sum(), torch.tensor(-42.8056), atol=1e-3), got.sum()
wide = joint_bilateral(img, lab, lab_hr, radius=2, spread=2.0)
assert torch.allclose(wide.mean(dim=(2, 3)), torch.tensor([[-0.1950, -0.3760, 0.0632], [0.1404, -0.1783, 0.0052]]),
                      atol=1e-3), wide.mean(dim=(2, 3))
on_centres = joint_bilateral(img, lab, torch.zeros(2, 9, 7, dtype=torch.long), radius=0)
assert torch.allclose(on_centres[..., ::2, ::2], img), "every other pixel of a (2h-1, 2w-1) output sits on a 1x centre"
### END HIDDEN TESTS
""", **grader("06-ex4-tests", False, 3))

md(r"""
### Exercise 5: which input of the any-resolution head matters? An ablation (3 points)

The any-resolution head reads, among other things, an **embedding of the labels at the output resolution**
(`A.detail.embed`, a linear layer on the one-hot semantics). Measure what it contributes: write
`ablate_label_embedding(model, sem, sem_hr, labels_hr, photo_hr, radius)` that renders the 4x images of the given
scenes twice, with `model` as it is and with a copy whose label embedding is switched off (its weights and
bias zero), both given the high-resolution labels, and returns `(full_psnr, ablated_psnr)`: the PSNR in the
boundary band (use `band_scores` from section 4, which the setup below repeats, and the library's `boundary_band`, which section 4 checked equal to `band`) of each against
the photo. The original model must stay as it was. Then answer in the markdown cell: what does the drop tell
you about where the sharp edges come from?
""")

code("""
import posgen_lib as pg  # noqa: E402 - for the model, the scenes and section 4's band (checked equal there)

band = pg.eval.metrics.boundary_band


def band_scores(fake, real, mask):
    mse = ((fake - real) ** 2).mean(1)[mask].mean()
    grad = lambda x: F.pad(x.diff(dim=-1), (0, 1)) ** 2 + F.pad(x.diff(dim=-2), (0, 0, 0, 1)) ** 2  # noqa: E731
    return float(10 * torch.log10(4 / mse)), float(grad(fake).sum(1)[mask].sum() / grad(real).sum(1)[mask].sum())


model = pg.pretrained("synthetic_anyres")
test = pg.data.SyntheticStreets(size=(64, 128), length=4, seed=0, split="test")
labels_1x = torch.stack([test[i]["label"] for i in range(4)])
instances_1x = torch.stack([test[i]["instance"] for i in range(4)])
high_res = [test.render(i, size=(256, 512)) for i in range(4)]
sem_1x = pg.data.to_semantics(labels_1x, instances_1x)                      # (4, 36, 64, 128)
labels_4x = torch.stack([h["label"] for h in high_res])                       # (4, 256, 512)
sem_4x = pg.data.to_semantics(labels_4x, torch.stack([h["instance"] for h in high_res]))
photo_4x = torch.stack([h["image"] for h in high_res])                        # (4, 3, 256, 512)
""", tags=["setup"])

code("""
def ablate_label_embedding(model, sem, sem_hr, labels_hr, photo_hr, radius=4):
    \"\"\"(band PSNR of `model`, band PSNR with its label embedding zeroed), in dB, of renders at the photos' size
    given the high-resolution semantics `sem_hr`; `labels_hr` (N, H, W) define the band.\"\"\"
    ### BEGIN SOLUTION
    mask = band(labels_hr, radius)
    size = tuple(photo_hr.shape[-2:])
    ablated = copy.deepcopy(model)  # the caller's model stays as it is
    with torch.no_grad():
        ablated.detail.embed.weight.zero_()
        ablated.detail.embed.bias.zero_()
        full = pg.render(model, sem, size=size, labels=sem_hr)
        without = pg.render(ablated, sem, size=size, labels=sem_hr)
    return band_scores(full, photo_hr, mask)[0], band_scores(without, photo_hr, mask)[0]
    ### END SOLUTION
""", **grader("06-ex5-solution", True))

code("""
before = copy.deepcopy(model.state_dict())
full_psnr, ablated_psnr = ablate_label_embedding(model, sem_1x, sem_4x, labels_4x, photo_4x)
assert isinstance(full_psnr, float) and isinstance(ablated_psnr, float), "return two floats (dB)"
assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), "the model itself must not change"
assert 10 < ablated_psnr < full_psnr < 40, (full_psnr, ablated_psnr)
assert full_psnr - ablated_psnr > 0.5, "without the labels at 4x the band should lose clearly more than 0.5 dB"
### BEGIN HIDDEN TESTS
mask = band(labels_4x, 4)
with torch.no_grad():
    reference = band_scores(pg.render(model, sem_1x, size=(256, 512), labels=sem_4x), photo_4x, mask)[0]
    off = copy.deepcopy(model)
    off.detail.embed.weight.zero_()
    off.detail.embed.bias.zero_()
    reference_off = band_scores(pg.render(off, sem_1x, size=(256, 512), labels=sem_4x), photo_4x, mask)[0]
assert abs(full_psnr - reference) < 1e-3, f"the full model's band PSNR should be {reference:.3f} dB"
assert abs(ablated_psnr - reference_off) < 1e-3, f"with weights and bias zeroed it should be {reference_off:.3f} dB"
### END HIDDEN TESTS
""", **grader("06-ex5-tests", False, 3))

md(r"""
Your measurement (this cell raises `NotImplementedError` until exercise 5 is done):
""")

code("""
full_psnr, ablated_psnr = ablate_label_embedding(model, sem_1x, sem_4x, labels_4x, photo_4x)
print(f"band PSNR at 4x: {full_psnr:.2f} dB with the label embedding, {ablated_psnr:.2f} dB without it "
      f"(a drop of {full_psnr - ablated_psnr:.2f} dB)")
""")

md(r"""
**Interpret the ablation** (1 point): by how much did the band PSNR drop without the label embedding, and
what does that say about where the any-resolution model's sharp edges come from?
""")

md(r"""
The band PSNR drops by about 1.5 dB (16.70 dB with the embedding, 15.17 dB without, on the four test scenes; the
cell after the tests prints it). Without the
embedding the head still has the bilinearly interpolated trunk features, which blend the classes across a
boundary, so its edges fall back towards the soft ramps of coordinate upscaling. The sharp edges come from the
label map at the output resolution: the embedding tells each output pixel which class it belongs to, so the
colour changes exactly where the fine labels change. The coordinates and the trunk features supply the colours
and the texture, not the position of the edges.
""", **answer("06-q0"))

md(r"""
Your baseline on the four test scenes of exercise 5, upscaling the any-resolution model's own 1x images
with the 4x labels, against bicubic interpolation of the same images (this cell raises
`NotImplementedError` until exercise 4 is done):
""")

code("""
with torch.no_grad():
    base_1x = pg.render(model, sem_1x)  # (4, 3, 64, 128): the model's 1x images
    upscaled = {"bicubic": F.interpolate(base_1x, size=(256, 512), mode="bicubic", align_corners=True).clamp(-1, 1),
                "your joint bilateral": joint_bilateral(base_1x, labels_1x, labels_4x, radius=2, spread=1.0)}
mask = band(labels_4x, 4)
for name, images in upscaled.items():
    psnr, sharpness = band_scores(images, photo_4x, mask)
    print(f"{name:22s} band PSNR {psnr:5.2f} dB   sharpness {sharpness:.2f}")
""")

md(r"""
## Summary

- A per-pixel head renders any size, window or band: trunk once at 1x, then the head at every requested pixel
  centre (`align_corners=True`: corners pinned, spacing shrinks). Working memory is bounded by the band size.
- Coordinate upscaling alone ties bicubic interpolation of the 1x output: the head reads bilinearly blended
  features and never saw finer targets; the 1x labels say nothing about sub-pixel boundaries.
- Fair baselines say what they need: interpolation and SPADE's resampled features need only the 1x labels;
  joint bilateral upsampling and SPADE's trunk on the fine labels need the label map at the output size.
- Any-resolution PosGen reads the label map at the output resolution and is trained against ground truth at
  random scales (patches of a few thousand pixels per image). Its edges follow the fine labels; its texture is
  a trade-off between distortion (L1) and perception (a patch discriminator), measured in section 7.

## Check your understanding

1. A colleague renders PosGen at 4x and finds it no sharper than bicubic interpolation. Which two missing
   ingredients explain it?
""")

md(r"""
The head never saw a target finer than 1x (no high-resolution supervision), and it has no information about
where boundaries lie between the 1x pixels (it reads bilinearly blended features and 1x labels). With neither,
the best it can do between cells is an interpolation.
""", **answer("06-q1"))

md(r"""
2. What does SPADE's trunk run on the high-resolution labels get that PosGen's coordinate upscaling does not,
   and what does it cost?
""")

md(r"""
It gets the label map at the output resolution, so its SPADE layers modulate with the fine boundaries. It costs
the whole trunk at the output size (about 16 times the convolution work at 4x, growing with the square of the
scale), and the trunk runs on label statistics (object sizes in pixels, thin instance edges) it never trained on.
""", **answer("06-q2"))

md(r"""
3. Why does any-resolution training draw a few patches at a random scale per image instead of rendering the
   whole image at 4x?
""")

md(r"""
So that the cost of a step does not grow with the scale: a fixed number of output pixels per image are
supervised at any scale, and random scales in [1, 4] teach the head every pixel size, not only 4x.
""", **answer("06-q3"))

md(r"""
4. Adding the patch discriminator made the 4x renders look more textured but lowered their PSNR. Is one of
   the two measurements wrong?
""")

md(r"""
No: it is the perception-distortion trade-off (Blau & Michaeli 2018). Texture that is plausible but not exactly
the photo's adds error twice (where the photo has detail the render does not, and the reverse), so PSNR
rewards the blurry conditional mean; patch-KID and texture energy reward realistic texture. A method chooses a
point on the curve (here with the texture knob); the experiment reports the curve.
""", **answer("06-q4"))

md(r"""
## References

- T. Park, M.-Y. Liu, T.-C. Wang, J.-Y. Zhu. *Semantic Image Synthesis with Spatially-Adaptive Normalization* (SPADE). CVPR 2019. https://arxiv.org/abs/1903.07291
- Z. Huang. *Image Generation via Independent Semantic Synthesis* (the original PosGen report). Unpublished course report, CMU 16-726 final project, spring 2021.
- Y. Chen, S. Liu, X. Wang. *Learning Continuous Image Representation with Local Implicit Image Function* (LIIF). CVPR 2021. https://arxiv.org/abs/2012.09161
- T. Rott Shaham, M. Gharbi, R. Zhang, E. Shechtman, T. Michaeli. *Spatially-Adaptive Pixelwise Networks for Fast Image Translation* (ASAP-Net). CVPR 2021. https://arxiv.org/abs/2012.02992
- L. Chai, M. Gharbi, E. Shechtman, P. Isola, R. Zhang. *Any-resolution Training for High-resolution Image Synthesis*. ECCV 2022. https://arxiv.org/abs/2204.07156
- J. Kopf, M. F. Cohen, D. Lischinski, M. Uyttendaele. *Joint Bilateral Upsampling*. SIGGRAPH 2007. https://doi.org/10.1145/1276377.1276497
- Y. Blau, T. Michaeli. *The Perception-Distortion Tradeoff*. CVPR 2018. https://arxiv.org/abs/1711.06077
- I. Anokhin et al. *Image Generators with Conditionally-Independent Pixel Synthesis* (CIPS). CVPR 2021. https://arxiv.org/abs/2011.13775
""")

open_path = Path(__file__).resolve().parent / "06_resolution_upscaling.ipynb"
nb = new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3", "language": "python",
                                                         "name": "python3"}, "language_info": {"name": "python"}})
nbformat.write(nb, open_path)

"""Plausible wrong answers to notebook 06's exercises; each must fail its tests (see README.md)."""
from solution_cells import function_cell

nearest = function_cell('''
def nearest_labels(label: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(h, w) integer labels -> (H, W): the label of the nearest 1x pixel centre (align_corners=True)."""''')
sample = function_cell('''
def sample_features(feature, coords):
    """Bilinearly sample feature (B, C, h, w) at coords (2, H, W) in the align_corners=True frame -> (B, C, H, W)."""''')
ablate = function_cell('''
def ablate_label_embedding(model, sem, sem_hr, labels_hr, photo_hr, radius=4):
    """(band PSNR of `model`, band PSNR with its label embedding zeroed), in dB."""''')


_JBU = '''def joint_bilateral(image, labels_1x, labels_hr, radius=1, spread=1.0):
    batch, _, h, w = image.shape
    height, width = labels_hr.shape[-2:]
    u = {u}
    v = {v}
    pixels = image.double()
    num = torch.zeros(batch, 3, height, width, dtype=torch.float64)
    den = torch.zeros(batch, 1, height, width, dtype=torch.float64)
    any_num, any_den = torch.zeros_like(num), torch.zeros_like(den)
    for da in range(-radius, radius + 1):
        a = {near}(u).long() + da
        for db in range(-radius, radius + 1):
            b = {near}(v).long() + db
            inside = ((a >= 0) & (a < h))[:, None] & ((b >= 0) & (b < w))[None, :]
            rows, cols = a.clamp(0, h - 1)[:, None], b.clamp(0, w - 1)[None, :]
            spatial = torch.exp(-({dist}) / {denominator}) * inside
            values = pixels[:, :, rows, cols]
            same = ({same})[:, None].double()
            num += spatial * same * values
            den += spatial * same
            any_num += spatial * values
            any_den += spatial
    out = {out}
    return out.to(image.dtype)
'''


def _jbu(**changes) -> str:
    parts = {"u": "torch.arange(height, dtype=torch.float64) * (h - 1) / max(height - 1, 1)",
             "v": "torch.arange(width, dtype=torch.float64) * (w - 1) / max(width - 1, 1)", "near": "torch.round",
             "dist": "(u - a)[:, None] ** 2 + (v - b)[None, :] ** 2", "denominator": "(2 * spread ** 2)",
             "same": "labels_1x[:, rows, cols] == labels_hr",
             "out": "torch.where(den > 0, num / den.clamp(min=1e-300), any_num / any_den)"}
    return _JBU.format(**{**parts, **changes})


_SUB = '''def subpixel_grid(size, k):
    h, w = size
    {body}
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])
'''


def _index_with(rows: str, cols: str) -> str:
    return nearest(f'''
h, w = label.shape
height, width = size
rows = {rows}
cols = {cols}
return label[rows[:, None], cols[None, :]]
''')


def _ablate_with(zero: str, full: str = "pg.render(model, sem, size=size, labels=sem_hr)",
                 without: str = "pg.render(ablated, sem, size=size, labels=sem_hr)",
                 copy_model: str = "copy.deepcopy(model)") -> str:
    return ablate(f'''
mask = band(labels_hr, radius)
size = tuple(photo_hr.shape[-2:])
ablated = {copy_model}
with torch.no_grad():
    {zero}
    full = {full}
    without = {without}
return band_scores(full, photo_hr, mask)[0], band_scores(without, photo_hr, mask)[0]
''')


_ZERO_BOTH = "ablated.detail.embed.weight.zero_()\n    ablated.detail.embed.bias.zero_()"

WRONG = {
    "06-ex1-solution": [
        ("F.interpolate with mode='nearest' (the floor convention)",
         nearest('return F.interpolate(label[None, None].float(), size=size, mode="nearest")[0, 0].to(label.dtype)')),
        ("F.interpolate with mode='nearest-exact' (half-pixel centres)",
         nearest('return F.interpolate(label[None, None].float(), size=size, mode="nearest-exact")[0, 0]'
                 '.to(label.dtype)')),
        ("floor instead of round",
         _index_with("torch.floor(torch.arange(height) * (h - 1) / max(height - 1, 1)).long()",
                     "torch.floor(torch.arange(width) * (w - 1) / max(width - 1, 1)).long()")),
        ("scale h / H instead of (h - 1) / (H - 1)",
         _index_with("torch.round(torch.arange(height) * h / height).long().clamp(max=h - 1)",
                     "torch.round(torch.arange(width) * w / width).long().clamp(max=w - 1)")),
        ("rows and columns scaled by the wrong side",
         _index_with("torch.round(torch.arange(height) * (w - 1) / max(width - 1, 1)).long().clamp(max=h - 1)",
                     "torch.round(torch.arange(width) * (h - 1) / max(height - 1, 1)).long().clamp(max=w - 1)")),
        ("labels turned into floats",
         _index_with("torch.round(torch.arange(height, dtype=torch.float64) * (h - 1) / max(height - 1, 1)).long()",
                     "torch.round(torch.arange(width, dtype=torch.float64) * (w - 1) / max(width - 1, 1)).long()")
         .replace("return label[rows", "return label.float()[rows")),
    ],
    "06-ex2-solution": [
        ("x and y swapped in the grid",
         sample('grid = coords.flip(0).permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)\n'
                'return F.grid_sample(feature, grid, mode="bilinear", align_corners=True)')),
        ("align_corners=False",
         sample('grid = coords.permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)\n'
                'return F.grid_sample(feature, grid, mode="bilinear", align_corners=False)')),
        ("nearest instead of bilinear",
         sample('grid = coords.permute(1, 2, 0).unsqueeze(0).expand(feature.shape[0], -1, -1, -1)\n'
                'return F.grid_sample(feature, grid, mode="nearest", align_corners=True)')),
        ("the grid built for a batch of one only",
         sample('grid = coords.permute(1, 2, 0).unsqueeze(0)\n'
                'return F.grid_sample(feature[:1], grid, mode="bilinear", align_corners=True)')),
        ("grid as (B, 2, H, W) reshaped instead of permuted",
         sample('grid = coords.reshape(coords.shape[1], coords.shape[2], 2).unsqueeze(0)'
                '.expand(feature.shape[0], -1, -1, -1)\n'
                'return F.grid_sample(feature, grid, mode="bilinear", align_corners=True)')),
    ],
    "06-ex5-solution": [
        ("the caller's model switched off in place", _ablate_with(
            "ablated.detail.embed.weight.zero_()\n    ablated.detail.embed.bias.zero_()",
            copy_model="model", full="pg.render(copy.deepcopy(model), sem, size=size, labels=sem_hr)")),
        ("only the weights zeroed, the bias left", _ablate_with("ablated.detail.embed.weight.zero_()")),
        ("both renders without the high-resolution labels", _ablate_with(
            _ZERO_BOTH, full="pg.render(model, sem, size=size)", without="pg.render(ablated, sem, size=size)")),
        ("the ablated render given no labels instead of a zeroed embedding", _ablate_with(
            "pass", without="pg.render(model, sem, size=size)")),
        ("the band of the 1x labels scaled up instead of the 4x labels", _ablate_with(
            _ZERO_BOTH).replace("mask = band(labels_hr, radius)",
                                "mask = F.interpolate(band(labels_hr[:, ::4, ::4], 1)[:, None].float(), "
                                "scale_factor=4)[:, 0].bool()")),
    ],
    "06-ex4-solution": [
        ("the label term left out: plain Gaussian upsampling", _jbu(same="labels_hr == labels_hr")),
        ("the half-pixel (align_corners=False) positions", _jbu(
            u="((torch.arange(height, dtype=torch.float64) + 0.5) * h / height - 0.5).clamp(0, h - 1)",
            v="((torch.arange(width, dtype=torch.float64) + 0.5) * w / width - 0.5).clamp(0, w - 1)")),
        ("no fallback: 0 / 0 where no neighbour has the class", _jbu(out="num / den")),
        ("the window around floor(u) instead of the nearest pixel", _jbu(near="torch.floor")),
        ("spread read as a variance", _jbu(denominator="(2 * spread)")),
        ("distances in output pixels", _jbu(dist="((u - a) * (height - 1) / max(h - 1, 1))[:, None] ** 2 + "
                                                 "((v - b) * (width - 1) / max(w - 1, 1))[None, :] ** 2")),
        ("the 1x labels as the guide (the class of the nearest 1x pixel)", _jbu(
            same="labels_1x[:, rows, cols] == labels_1x[:, torch.round(u).long()[:, None], torch.round(v).long()[None, :]]")),
        ("weights not normalised", _jbu(out="torch.where(den > 0, num, any_num / any_den)")),
        ("pixels outside the image clamped to the border instead of skipped",
         _jbu().replace(" * inside", "")),
    ],
    "06-ex3-solution": [
        ("corners pinned: linspace(-1, 1, k n)", _SUB.format(
            body="ys = torch.linspace(-1, 1, k * h, dtype=torch.float64)\n    xs = torch.linspace(-1, 1, k * w, dtype=torch.float64)")),
        ("offsets m / k from the centre, not centred", _SUB.format(
            body="off = torch.arange(k, dtype=torch.float64) / k\n"
                 "    ys = (torch.arange(h, dtype=torch.float64)[:, None] + off).flatten() * 2 / (h - 1) - 1\n"
                 "    xs = (torch.arange(w, dtype=torch.float64)[:, None] + off).flatten() * 2 / (w - 1) - 1")),
        ("the align_corners grid of k (n - 1) + 1 points, cut to k n", _SUB.format(
            body="ys = torch.linspace(-1, 1, k * (h - 1) + 1, dtype=torch.float64)\n"
                 "    ys = torch.cat([ys, ys[-1:].expand(k * h - len(ys))])\n"
                 "    xs = torch.linspace(-1, 1, k * (w - 1) + 1, dtype=torch.float64)\n"
                 "    xs = torch.cat([xs, xs[-1:].expand(k * w - len(xs))])")),
        ("the footprint taken as 2 / n wide (align_corners=False pixels)", _SUB.format(
            body="off = (torch.arange(k, dtype=torch.float64) + 0.5) / k - 0.5\n"
                 "    ys = -1 + 2 * (torch.arange(h, dtype=torch.float64)[:, None] + off).flatten() / (h - 1) * (h - 1) / h\n"
                 "    xs = -1 + 2 * (torch.arange(w, dtype=torch.float64)[:, None] + off).flatten() / (w - 1) * (w - 1) / w")),
        ("sub-pixels ordered pixel-major per axis but x and y swapped", _SUB.format(
            body="off = (torch.arange(k, dtype=torch.float64) + 0.5) / k - 0.5\n"
                 "    xs = (torch.arange(h, dtype=torch.float64)[:, None] + off).flatten() * 2 / (h - 1) - 1\n"
                 "    ys = (torch.arange(w, dtype=torch.float64)[:, None] + off).flatten() * 2 / (w - 1) - 1")),
        ("offsets (m + 1/2) / k, the pixel's footprint taken from x_j on", _SUB.format(
            body="off = (torch.arange(k, dtype=torch.float64) + 0.5) / k\n"
                 "    ys = (torch.arange(h, dtype=torch.float64)[:, None] + off).flatten() * 2 / (h - 1) - 1\n"
                 "    xs = (torch.arange(w, dtype=torch.float64)[:, None] + off).flatten() * 2 / (w - 1) - 1")),
    ],
}

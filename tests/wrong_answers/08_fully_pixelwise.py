"""Plausible wrong answers to notebook 08's exercises; each must fail its tests (see README.md)."""
from solution_cells import function_cell

fractions = function_cell('''
def class_fractions(seg, r):
    """Per r x r cell, the fraction of pixels of each class: (B, C, H, W) -> (B, C, H/r, W/r)."""''')
radius = function_cell('''
def influence_radius(change, pixel, threshold):
    """Largest max(|d_row|, |d_col|) from pixel = (row, col) to a pixel with change >= threshold; -1 if none."""''')
maps = function_cell('''
def influence_maps(G, label, instance, pixels, to_class):
    """(P, H, W): per edited pixel, the largest |change| over R, G, B of every output pixel of G."""''')


_CHECK = '''
height, width = seg.shape[-2:]
if height % r or width % r:
    raise ValueError(f"size {height}x{width} is not divisible by r={r}")
'''

_NEAR = '''
rows, cols = torch.nonzero(change >= threshold, as_tuple=True)
if rows.numel() == 0:
    return -1
'''


def _maps_with(change: str, edit: str = "edited = label.clone()\n        edited[pixel] = to_class",
               after: str = "G(semantics(edited, instance))") -> str:
    return maps(f'''
with torch.no_grad():
    before = G(semantics(label, instance))
    out = []
    for pixel in pixels:
        {edit}
        after = {after}
        out.append({change})
return torch.stack(out)
''')


_LARGEST = "(after - before).abs().amax(dim=1)[0]"  # the right measure, for the cases wrong elsewhere

_DECODE = r'''
def pixelwise_decode(e: torch.Tensor, coords: torch.Tensor, p: dict) -> torch.Tensor:
    """The modulated per-pixel MLP on e (B, E, h, w) read bilinearly at coords (2, H, W) -> RGB (B, 3, H, W)."""
    batch = e.shape[0]
    height, width = coords.shape[1:]
    grid = coords.permute(1, 2, 0).unsqueeze(0).expand(batch, -1, -1, -1)  # (B, H, W, 2), (x, y) last
    e_p = F.grid_sample(e, grid, mode="bilinear", align_corners=True)  # (B, E, H, W)
    e_p = e_p.permute(0, 2, 3, 1)  # (B, H, W, E): one row per pixel
    c = coords.permute(1, 2, 0)  # (H, W, 2)
    h = torch.cat([c, torch.sin(c @ p["W_c"].T + p["b_c"])], dim=-1).expand(batch, -1, -1, -1)  # (B, H, W, 2 + G)
    mod = (e_p @ p["W_m"].T + p["b_m"]).chunk(2 * len(p["W"]), dim=-1)  # gamma_1, beta_1, gamma_2, ...
    for l, (weight, bias) in enumerate(zip(p["W"], p["b"])):
        h = F.leaky_relu((1 + mod[2 * l]) * (h @ weight.T + bias) + mod[2 * l + 1], 0.2)
    return torch.tanh(h @ p["W_out"].T + p["b_out"]).permute(0, 3, 1, 2)  # (B, 3, H, W)
'''
_COLUMNS = r'''
def affected_columns(col: int, r: int, width: int, dilations=(1, 2, 1)) -> tuple[int, int]:
    """(first, last) output column whose context code can change when label column `col` changes."""
    cells = width // r
    reach = sum(dilations)  # a 3x3 conv with dilation d reaches d cells to each side
    lo, hi = max(col // r - reach, 0), min(col // r + reach, cells - 1)  # the cells that can change
    # x reads ceil(u) >= lo  <=>  u > lo - 1  <=>  x > r (lo - 1/2) - 1/2 (or x >= 0 when lo is the first cell)
    first = 0 if lo == 0 else math.floor(r * (lo - 0.5) - 0.5) + 1
    # x reads floor(u) <= hi  <=>  u < hi + 1  <=>  x < r (hi + 3/2) - 1/2 (or up to the last column)
    last = width - 1 if hi == cells - 1 else math.ceil(r * (hi + 1.5) - 0.5) - 1
    return first, last
'''


def _decode(old: str, new: str) -> str:
    assert old in _DECODE, old
    return _DECODE.replace(old, new)


def _columns(old: str, new: str) -> str:
    assert old in _COLUMNS, old
    return _COLUMNS.replace(old, new)


WRONG = {
    "08-ex1-solution": [
        ("no divisibility check (avg_pool2d silently drops the remainder)",
         fractions("return F.avg_pool2d(seg, r)")),
        ("checks the height only", fractions('''
if seg.shape[-2] % r:
    raise ValueError("height is not divisible by r")
return F.avg_pool2d(seg, r)
''')),
        ("raises AssertionError instead of ValueError", fractions('''
assert seg.shape[-2] % r == 0 and seg.shape[-1] % r == 0, "size not divisible by r"
return F.avg_pool2d(seg, r)
''')),
        ("max pooling: whether a class occurs, not its fraction", fractions(_CHECK + "return F.max_pool2d(seg, r)")),
        ("pixel counts instead of fractions", fractions(_CHECK + "return F.avg_pool2d(seg, r) * r * r")),
        ("subsampling one pixel per cell", fractions(_CHECK + "return seg[..., ::r, ::r]")),
        ("bilinear downsampling (a few pixels per cell, no averaging)",
         fractions(_CHECK + 'return F.interpolate(seg, scale_factor=1 / r, mode="bilinear", align_corners=False)')),
        ("stride 1 (a sliding window, not cells)",
         fractions(_CHECK + "return F.avg_pool2d(seg, r, stride=1)")),
    ],
    "08-ex2-solution": [
        ("Euclidean distance, rounded down", radius(_NEAR + '''
return int(torch.sqrt(((rows - pixel[0]) ** 2 + (cols - pixel[1]) ** 2).float()).max())
''')),
        ("Euclidean distance, rounded", radius(_NEAR + '''
return round(float(torch.sqrt(((rows - pixel[0]) ** 2 + (cols - pixel[1]) ** 2).float()).max()))
''')),
        ("Manhattan distance", radius(_NEAR + '''
return int(((rows - pixel[0]).abs() + (cols - pixel[1]).abs()).max())
''')),
        ("strictly above the threshold", radius('''
rows, cols = torch.nonzero(change > threshold, as_tuple=True)
if rows.numel() == 0:
    return -1
return int(torch.maximum((rows - pixel[0]).abs(), (cols - pixel[1]).abs()).max())
''')),
        ("pixel read as (x, y)", radius(_NEAR + '''
return int(torch.maximum((rows - pixel[1]).abs(), (cols - pixel[0]).abs()).max())
''')),
        ("0 instead of -1 when nothing changes", radius('''
rows, cols = torch.nonzero(change >= threshold, as_tuple=True)
if rows.numel() == 0:
    return 0
return int(torch.maximum((rows - pixel[0]).abs(), (cols - pixel[1]).abs()).max())
''')),
        ("the number of pixels that change", radius('''
count = int((change >= threshold).sum())
return count - 1 if count else -1
''')),
        ("distance to the largest change, not the farthest", radius('''
if not (change >= threshold).any():
    return -1
row, col = divmod(int(change.argmax()), change.shape[1])
return max(abs(row - pixel[0]), abs(col - pixel[1]))
''')),
        ("a 0-dim tensor returned", radius(_NEAR + '''
return torch.maximum((rows - pixel[0]).abs(), (cols - pixel[1]).abs()).max()
''')),
        ("half the bounding box of the changed pixels", radius(_NEAR + '''
return int(max(rows.max() - rows.min(), cols.max() - cols.min())) // 2
''')),
        ("from the image centre, not the edited pixel", radius(_NEAR + '''
centre = (change.shape[0] // 2, change.shape[1] // 2)
return int(torch.maximum((rows - centre[0]).abs(), (cols - centre[1]).abs()).max())
''')),
    ],
    "08-ex3-solution": [
        ("mean over the colour channels", _maps_with("(after - before).abs().mean(dim=1)[0]")),
        ("Euclidean norm over the colour channels", _maps_with("(after - before).norm(dim=1)[0]")),
        ("sum over the colour channels", _maps_with("(after - before).abs().sum(dim=1)[0]")),
        ("signed change (decreases are lost)", _maps_with("(after - before).amax(dim=1)[0]")),
        ("the caller's label map edited in place",
         _maps_with(_LARGEST, edit="edited = label\n        edited[pixel] = to_class")),
        ("pixel read as (x, y)",
         _maps_with(_LARGEST, edit="edited = label.clone()\n        edited[pixel[1], pixel[0]] = to_class")),
        ("the edit is never rendered", _maps_with(_LARGEST, after="G(semantics(label, instance))")),
        ("the edited labels rendered without their instance map",
         _maps_with(_LARGEST, after="G(semantics(edited, torch.zeros_like(instance)))")),
        ("only the first colour channel", _maps_with("(after - before).abs()[0, 0]")),
        ("the change at the edited pixel, broadcast", _maps_with(
            "(after - before).abs().amax(dim=1)[0, pixel[0], pixel[1]].expand(label.shape)")),
    ],
    "08-ex4-solution": [
        ("align_corners=False sampling", _decode('align_corners=True', 'align_corners=False')),
        ("nearest sampling of the embedding", _decode('mode="bilinear"', 'mode="nearest"')),
        ("x and y swapped in the grid", _decode("grid = coords.permute(1, 2, 0)", "grid = coords.flip(0).permute(1, 2, 0)")),
        ("no 1 + in the modulation", _decode("(1 + mod[2 * l])", "mod[2 * l]")),
        ("gamma and beta taken as the first and second half of all values", _decode(
            "mod[2 * l]) * (h @ weight.T + bias) + mod[2 * l + 1]",
            "mod[l]) * (h @ weight.T + bias) + mod[len(p[\"W\"]) + l]")),
        ("the coordinates left out of h_0", _decode(
            "h = torch.cat([c, torch.sin(c @ p[\"W_c\"].T + p[\"b_c\"])], dim=-1)",
            "h = torch.cat([0 * c, torch.sin(c @ p[\"W_c\"].T + p[\"b_c\"])], dim=-1)")),
        ("ReLU instead of LeakyReLU", _decode("F.leaky_relu((1 + mod[2 * l]) * (h @ weight.T + bias) + mod[2 * l + 1], 0.2)",
                                               "F.relu((1 + mod[2 * l]) * (h @ weight.T + bias) + mod[2 * l + 1])")),
        ("the modulation added after the activation", _decode(
            "h = F.leaky_relu((1 + mod[2 * l]) * (h @ weight.T + bias) + mod[2 * l + 1], 0.2)",
            "h = (1 + mod[2 * l]) * F.leaky_relu(h @ weight.T + bias, 0.2) + mod[2 * l + 1]")),
        ("no tanh at the end", _decode("torch.tanh(h @ p[\"W_out\"].T + p[\"b_out\"])", "(h @ p[\"W_out\"].T + p[\"b_out\"])")),
    ],
    "08-ex5-solution": [
        ("reach = number of convs (dilations ignored)", _columns("reach = sum(dilations)", "reach = len(dilations)")),
        ("reach = 2 x sum of dilations (the kernel width)", _columns("reach = sum(dilations)", "reach = 2 * sum(dilations)")),
        ("the changed cells not clamped to the grid", _columns(
            "lo, hi = max(col // r - reach, 0), min(col // r + reach, cells - 1)", "lo, hi = col // r - reach, col // r + reach")),
        ("whole cells only: columns r lo .. r (hi + 1) - 1", _columns(
            "    return first, last", "    return lo * r, (hi + 1) * r - 1")),
        ("the align_corners=True picture of the upsampling", _columns(
            "first = 0 if lo == 0 else math.floor(r * (lo - 0.5) - 0.5) + 1",
            "first = 0 if lo == 0 else math.floor((lo - 1) * (width - 1) / max(cells - 1, 1)) + 1").replace(
            "last = width - 1 if hi == cells - 1 else math.ceil(r * (hi + 1.5) - 0.5) - 1",
            "last = width - 1 if hi == cells - 1 else math.ceil((hi + 1) * (width - 1) / max(cells - 1, 1)) - 1")),
        ("the cell of col computed as round(col / r)", _columns(
            "lo, hi = max(col // r - reach, 0), min(col // r + reach, cells - 1)",
            "lo, hi = max(round(col / r) - reach, 0), min(round(col / r) + reach, cells - 1)")),
        ("half a cell of blending forgotten: columns of the changed cells only, minus nothing", _columns(
            "math.floor(r * (lo - 0.5) - 0.5) + 1", "r * lo").replace("math.ceil(r * (hi + 1.5) - 0.5) - 1", "r * (hi + 1) - 1")),
        ("a list, not a tuple", _columns("    return first, last", "    return [first, last]")),
    ],
}

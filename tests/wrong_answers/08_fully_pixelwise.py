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
}

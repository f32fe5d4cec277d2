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
    "06-ex3-solution": [
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
}

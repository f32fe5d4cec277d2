"""Plausible wrong answers to notebook 03's exercises (see README.md); each must fail its tests."""

def _macs(position="2 * G + (2 + G) * H", rest="H * H + 3 * H", extra="", cached_part="0") -> str:
    return f"""def head_macs(C, F, G, H, cached):
    feature = C * F + F * H
    rest = {rest}
    position = {position}
    return feature + rest + ({cached_part} if cached else position){extra}
"""


WRONG = {
    '03-ex1-solution': [
        ('bias b_1 left out of the position term (added in the head instead)', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + p["b_1"] + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('bias b_1 added twice (in the position term and in the head)', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + p["b_1"] + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('raw coordinates c left out of the position term', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return g @ p["W_1"][:, n_feat + 2:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('position columns taken from the start of W_1', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, :p["W_1"].shape[1] - n_feat].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, -n_feat:].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('Fourier features concatenated before the raw coordinates ([g, c])', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([g, c], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('sine applied to the position term', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.sin(torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"])  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('cosine instead of sine in the coordinate Fourier features', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.cos(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ("LeakyReLU with PyTorch's default slope 0.01", r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"])  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('no sine on the feature Fourier layer', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = f @ p["W_f"].T + p["b_f"]  # (..., N, F)
    h = F.leaky_relu(a @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
        ('position term flattened over the batch instead of shared (only works for one image)', r'''
def position_term(c: torch.Tensor, p: dict) -> torch.Tensor:
    """P(c) = W_c' c + W_g sin(W_c c + b_c) + b_1 for N pixels: c (N, 2) -> (N, H)."""
    n_feat = p["W_f"].shape[0]  # F: the first F columns of W_1 belong to a
    g = torch.sin(c @ p["W_c"].T + p["b_c"])  # (N, G)
    return torch.cat([c, g], dim=-1) @ p["W_1"][:, n_feat:].T + p["b_1"]  # (N, H)


def head_cached(f: torch.Tensor, pos: torch.Tensor, p: dict) -> torch.Tensor:
    """RGB (..., N, 3) in (-1, 1) from features f (..., N, C) and a shared position term pos (N, H)."""
    n_feat = p["W_f"].shape[0]
    a = torch.sin(f @ p["W_f"].T + p["b_f"])  # (..., N, F)
    h = F.leaky_relu(a.reshape(-1, a.shape[-1]) @ p["W_1"][:, :n_feat].T + pos, 0.2)  # (..., N, H): pos broadcasts over the batch
    h = F.leaky_relu(h @ p["W_2"].T + p["b_2"], 0.2)  # (..., N, H)
    return torch.tanh(h @ p["W_3"].T + p["b_3"])  # (..., N, 3)'''),
    ],
    '03-ex3-solution': [
        ('only the raw coordinates zeroed; the Fourier features still see the true centres', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    head = G.pixel_head
    with torch.no_grad():
        pixels = f.permute(0, 2, 3, 1)  # (B, H, W, C)
        centres = grid.permute(1, 2, 0).expand(pixels.shape[0], -1, -1, -1)  # (B, H, W, 2)
        raw = centres if coords == "trained" else torch.zeros_like(centres)
        x = torch.cat([torch.sin(head.feat_fourier(pixels)), raw, head.coord_fourier(centres)], -1)
        h = torch.nn.functional.leaky_relu(head.fc1(x), 0.2)
        h = torch.nn.functional.leaky_relu(head.fc2(h), 0.2)
        return torch.tanh(head.fc3(h)).permute(0, 3, 1, 2)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ("the Fourier features' output set to 0 instead of sin(W_c 0 + b_c)", r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    head = G.pixel_head
    with torch.no_grad():
        pixels = f.permute(0, 2, 3, 1)  # (B, H, W, C)
        centres = grid.permute(1, 2, 0).expand(pixels.shape[0], -1, -1, -1)  # (B, H, W, 2)
        if coords == "trained":
            pos = torch.cat([centres, head.coord_fourier(centres)], -1)
        else:
            pos = torch.zeros(*centres.shape[:-1], 2 + head.coord_fourier.linear.out_features)
        x = torch.cat([torch.sin(head.feat_fourier(pixels)), pos], -1)
        h = torch.nn.functional.leaky_relu(head.fc1(x), 0.2)
        h = torch.nn.functional.leaky_relu(head.fc2(h), 0.2)
        return torch.tanh(head.fc3(h)).permute(0, 3, 1, 2)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('the features zeroed instead of the coordinates', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    f = f if coords == "trained" else torch.zeros_like(f)
    with torch.no_grad():
        return G.pixel_head(f, grid)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ("features also sampled at (0, 0): every pixel gets the centre's feature", r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    f = pg.sample_at(feat, c)
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('features sampled nearest instead of bilinearly', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid, mode="nearest")  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('pixel centres with the align_corners=False convention', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    H, W = size
    ys = (torch.arange(H) + 0.5) / H * 2 - 1
    xs = (torch.arange(W) + 0.5) / W * 2 - 1
    grid = torch.stack([xs.expand(H, W), ys[:, None].expand(H, W)])  # (2, H, W)
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('x and y swapped in the coordinate grid', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size).flip(0)  # (2, H, W): (y, x) instead of (x, y)
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('4x image made by upsampling the 1x head image bicubically', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(feat.shape[-2:])  # (2, h, w): the label grid
    c = grid if coords == "trained" else torch.zeros_like(grid)
    with torch.no_grad():
        small = G.pixel_head(feat, c)
    return torch.nn.functional.interpolate(small, size=size, mode="bicubic", align_corners=True)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('PSNR for images in [0, 1] (peak 1 instead of 2)', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(1 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('PSNR averaged over images instead of one MSE', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float((10 * torch.log10(4 / (fake - real).pow(2).mean(dim=(1, 2, 3)))).mean())


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('PSNR with the root mean square error in place of the MSE', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean().sqrt()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ('both scales compared with the 1x ground truth upsampled', r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        up = torch.nn.functional.interpolate(real_1x, size=real_4x.shape[-2:], mode='bicubic', align_corners=True)
        for scale, real in ((1, real_1x), (4, up)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:]), coords), real)
    return results'''),
        ("'zeroed' never applied: both rows rendered with the trained coordinates", r'''
def head_image(G, feat: torch.Tensor, size: tuple[int, int], coords: str = "trained") -> torch.Tensor:
    """G's head on features feat (B, C, h, w) at every pixel of a (H, W) output -> (B, 3, H, W)."""
    grid = pg.coordinate_grid(size)  # (2, H, W): pixel centres
    f = pg.sample_at(feat, grid)  # (B, C, H, W): the features there, bilinear
    c = grid if coords == "trained" else torch.zeros_like(grid)  # what the head is told
    with torch.no_grad():
        return G.pixel_head(f, c)


def psnr(fake: torch.Tensor, real: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1]: one MSE over all images, channels and pixels."""
    return float(10 * torch.log10(4 / (fake - real).pow(2).mean()))


def ablation_experiment(G, feat: torch.Tensor, real_1x: torch.Tensor, real_4x: torch.Tensor) -> dict:
    """{(coords, scale): PSNR in dB} for coords in ("trained", "zeroed") and scale in (1, 4)."""
    results = {}
    for coords in ("trained", "zeroed"):
        for scale, real in ((1, real_1x), (4, real_4x)):
            results[coords, scale] = psnr(head_image(G, feat, tuple(real.shape[-2:])), real)
    return results'''),
    ],
    '03-ex2-solution': [
        ("biases counted as multiply-adds", _macs(extra=" + F + G + 2 * H + 3")),
        ("the columns of L_1 that multiply c left out", _macs(position="2 * G + G * H")),
        ("the cached count still pays for sin(W_c c)", _macs(cached_part="2 * G")),
        ("L_3 forgotten", _macs(rest="H * H")),
        ("W_c c counted once per coordinate wave pair (G, not 2 G)", _macs(position="G + (2 + G) * H")),
        ("cached and uncached swapped", _macs().replace("0 if cached else position", "position if cached else 0")),
        ("a float (the formula divided by 1.0)", _macs().replace("    return feature", "    return 1.0 * feature")),
    ],
}

"""Plausible wrong answers to the exercises of notebooks/01_fourier_features.ipynb (see README.md)."""

_CROP_HEAD = '''def crop_grid(image_size, rows, cols, scale=1):
    height, width = image_size
    (i0, i1), (j0, j1) = rows, cols
'''
_CROP_TAIL = '''    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])
'''


def _crop(body: str, tail: str = _CROP_TAIL) -> str:
    return _CROP_HEAD + body + tail


_CORRECT_ENDS = '''    y0, y1 = (-1 + 2 * i / (height - 1) for i in (i0, i1))
    x0, x1 = (-1 + 2 * j / (width - 1) for j in (j0, j1))
'''
_CORRECT_AXES = '''    ys = torch.linspace(y0, y1, (i1 - i0) * scale + 1)
    xs = torch.linspace(x0, x1, (j1 - j0) * scale + 1)
'''

_SIGMA_HEAD = '''def max_sigma(size, fraction):
    height, width = size
'''


def _bisect(nu: str, kept: str) -> str:
    """A max_sigma that bisects ``kept(sigma) >= fraction`` with Nyquist limits ``nu``."""
    return _SIGMA_HEAD + nu + f'''
    def kept(sigma):
        return {kept}

    lo, hi = 1e-9, 100.0 * max(nu_x, nu_y)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid) >= fraction else (lo, mid)
    return lo
'''


_NU = "    nu_x, nu_y = (width - 1) / 4, (height - 1) / 4\n"
_BOTH = "math.erf(nu_x / (sigma * math.sqrt(2))) * math.erf(nu_y / (sigma * math.sqrt(2)))"

WRONG = {
    "01-ex1-solution": [
        ("align_corners=False centres (half a pixel off)", _crop(
            '''    y0, y1 = (-1 + (2 * i + 1) / height for i in (i0, i1))
    x0, x1 = (-1 + (2 * j + 1) / width for j in (j0, j1))
''' + _CORRECT_AXES)),
        ("pixel spacing 2/W with the first centre at -1", _crop(
            '''    y0, y1 = (-1 + 2 * i / height for i in (i0, i1))
    x0, x1 = (-1 + 2 * j / width for j in (j0, j1))
''' + _CORRECT_AXES)),
        ("x and y channels swapped", _crop(_CORRECT_ENDS + _CORRECT_AXES, '''    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_y, grid_x])
''')),
        ("height and width swapped in the spacing", _crop(
            '''    y0, y1 = (-1 + 2 * i / (width - 1) for i in (i0, i1))
    x0, x1 = (-1 + 2 * j / (height - 1) for j in (j0, j1))
''' + _CORRECT_AXES)),
        ("meshgrid(ys, xs) with indexing='xy'", _crop(_CORRECT_ENDS + _CORRECT_AXES, '''    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="xy")
    return torch.stack([grid_x, grid_y])
''')),
        ("n * scale samples per axis instead of (n - 1) * scale + 1", _crop(
            _CORRECT_ENDS + '''    ys = torch.linspace(y0, y1, (i1 - i0 + 1) * scale)
    xs = torch.linspace(x0, x1, (j1 - j0 + 1) * scale)
''')),
        ("scale ignored", _crop(
            _CORRECT_ENDS + '''    ys = torch.linspace(y0, y1, i1 - i0 + 1)
    xs = torch.linspace(x0, x1, j1 - j0 + 1)
''')),
        ("last row and column excluded (slice convention)", _crop(
            '''    i1, j1 = i1 - 1, j1 - 1
''' + _CORRECT_ENDS + _CORRECT_AXES)),
        ("window from the pixel edges instead of the centres", _crop(
            '''    dy, dx = 1 / (height - 1), 1 / (width - 1)
    y0, y1 = -1 + 2 * i0 / (height - 1) - dy, -1 + 2 * i1 / (height - 1) + dy
    x0, x1 = -1 + 2 * j0 / (width - 1) - dx, -1 + 2 * j1 / (width - 1) + dx
''' + _CORRECT_AXES)),
        ("torch.arange that stops before the last centre", _crop(
            _CORRECT_ENDS + '''    ys = torch.arange(y0, y1, 2 / (height - 1) / scale)
    xs = torch.arange(x0, x1, 2 / (width - 1) / scale)
''')),
        ("the whole image's grid at the crop's size", _crop(
            '''    ys = torch.linspace(-1, 1, (i1 - i0) * scale + 1)
    xs = torch.linspace(-1, 1, (j1 - j0) * scale + 1)
''')),
    ],
    "01-ex2-solution": [
        ("only the x axis (the wide side) counted", _bisect(_NU, "math.erf(nu_x / (sigma * math.sqrt(2)))")),
        ("only the y axis (the short side) counted", _bisect(_NU, "math.erf(nu_y / (sigma * math.sqrt(2)))")),
        ("each axis kept with probability fraction (product fraction^2)",
         _bisect(_NU, "min(math.erf(nu_x / (sigma * math.sqrt(2))), math.erf(nu_y / (sigma * math.sqrt(2))))")),
        ("Nyquist limit in pixel units, W / 2", _bisect("    nu_x, nu_y = width / 2, height / 2\n", _BOTH)),
        ("Nyquist limit W / 4 (spacing 2 / W)", _bisect("    nu_x, nu_y = width / 4, height / 4\n", _BOTH)),
        ("Nyquist limit (W - 1) / 2 (spacing 1 / (W - 1))",
         _bisect("    nu_x, nu_y = (width - 1) / 2, (height - 1) / 2\n", _BOTH)),
        ("sigma read as an angular frequency (2 pi too large)", _SIGMA_HEAD + _NU + '''
    def kept(sigma):
        return math.erf(2 * math.pi * nu_x / (sigma * math.sqrt(2))) * math.erf(2 * math.pi * nu_y / (sigma * math.sqrt(2)))

    lo, hi = 1e-9, 1000.0 * max(nu_x, nu_y)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid) >= fraction else (lo, mid)
    return lo
'''),
        ("normal CDF without the sqrt(2): erf(nu / sigma)",
         _bisect(_NU, "math.erf(nu_x / sigma) * math.erf(nu_y / sigma)")),
        ("radial criterion |b| <= min(nu) (Rayleigh)",
         _bisect(_NU, "1 - math.exp(-min(nu_x, nu_y) ** 2 / (2 * sigma ** 2))")),
        ("rule of thumb sigma = the smaller Nyquist limit", _SIGMA_HEAD + '''    return min(width - 1, height - 1) / 4
'''),
        ("a Monte Carlo estimate", _SIGMA_HEAD + _NU + '''    b = torch.randn(20_000, 2)
    lo, hi = 1e-6, 100.0 * max(nu_x, nu_y)
    for _ in range(60):
        mid = (lo + hi) / 2
        kept = ((b[:, 0].abs() * mid <= nu_x) & (b[:, 1].abs() * mid <= nu_y)).float().mean().item()
        lo, hi = (mid, hi) if kept >= fraction else (lo, mid)
    return lo
'''),
        ("coarse bisection (20 steps from [0, 100 nu])", _SIGMA_HEAD + _NU + f'''
    def kept(sigma):
        return {_BOTH}

    lo, hi = 1e-9, 100.0 * max(nu_x, nu_y)
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid) >= fraction else (lo, mid)
    return lo
'''),
    ],
}

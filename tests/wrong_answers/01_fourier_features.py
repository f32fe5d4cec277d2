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

_ALIAS_HEAD = '''def aliased_frequency(b, n):
'''
_ALIAS = _ALIAS_HEAD + '''    rate = {rate}
    r = math.fmod(b, rate)
    return float(min(r, rate - r))
'''


def _mlp(buffer="self.register_buffer(\"B\", B.clone())", phase="2 * math.pi * v @ self.B.T",
         encode="torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)", layers=None,
         tail="torch.nn.Linear(hidden, 3)") -> str:
    layers = layers or ("torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), "
                        "torch.nn.ReLU(), " + tail)
    return f'''class FourierMLP(torch.nn.Module):
    def __init__(self, B, hidden=64):
        super().__init__()
        {buffer}
        width = 2 * B.shape[0]
        self.net = torch.nn.Sequential({layers})

    def encode(self, v):
        phase = {phase}
        return {encode}

    def forward(self, v):
        return self.net(self.encode(v))
'''


class _Template:
    """``_MLP.format(**changes)``: the FourierMLP with some of its parts written wrongly."""

    @staticmethod
    def format(**changes) -> str:
        return _mlp(**changes)


_MLP = _Template()

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
        ("sample counts from the float span, truncated (int) instead of counted", _crop(
            _CORRECT_ENDS + '''    ys = torch.linspace(y0, y1, int((y1 - y0) * (height - 1) / 2 * scale) + 1)
    xs = torch.linspace(x0, x1, int((x1 - x0) * (width - 1) / 2 * scale) + 1)
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
        ("bisection bracketed at hi = max(nu_x, nu_y)", _SIGMA_HEAD + _NU + f'''
    def kept(sigma):
        return {_BOTH}

    lo, hi = 1e-9, max(nu_x, nu_y)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid) >= fraction else (lo, mid)
    return lo
'''),
        ("bisection bracketed at hi = 10 max(nu_x, nu_y)", _SIGMA_HEAD + _NU + f'''
    def kept(sigma):
        return {_BOTH}

    lo, hi = 1e-9, 3 * max(nu_x, nu_y)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid) >= fraction else (lo, mid)
    return lo
'''),
        ("returns the bisection's 0-dim tensor", _SIGMA_HEAD + _NU + f'''
    def kept(sigma):
        return {_BOTH}

    lo, hi = torch.tensor(1e-9, dtype=torch.float64), torch.tensor(100.0 * max(nu_x, nu_y), dtype=torch.float64)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kept(mid.item()) >= fraction else (lo, mid)
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
    "01-ex3-solution": [
        ("sampling rate n / 2 (the align_corners=False spacing 2 / n)", _ALIAS.format(rate="n / 2")),
        ("the remainder b mod f_s, never folded back", _ALIAS_HEAD + '''    rate = (n - 1) / 2
    return float(math.fmod(b, rate))
'''),
        ("folded at the Nyquist frequency instead of the sampling rate", _ALIAS.format(rate="(n - 1) / 4")),
        ("b - f_s once, in absolute value", _ALIAS_HEAD + '''    rate = (n - 1) / 2
    return float(abs(b - rate)) if b > (n - 1) / 4 else float(b)
'''),
        ("the distance to the Nyquist frequency", _ALIAS_HEAD + '''    nu = (n - 1) / 4
    return float(abs(b - nu)) if b > nu else float(b)
'''),
        ("a 0-dim tensor", _ALIAS_HEAD + '''    rate = torch.tensor((n - 1) / 2, dtype=torch.float64)
    r = torch.remainder(torch.tensor(b, dtype=torch.float64), rate)
    return torch.minimum(r, rate - r)
'''),
        ("Nyquist frequency n / 4 used as the rate and the limit", _ALIAS.format(rate="n / 4")),
    ],
    "01-ex4-solution": [
        ("sines first, then cosines", _MLP.format(encode="torch.cat([torch.sin(phase), torch.cos(phase)], dim=-1)")),
        ("cos and sin interleaved per wave", _MLP.format(
            encode="torch.stack([torch.cos(phase), torch.sin(phase)], dim=-1).flatten(-2)")),
        ("no 2 pi: frequencies in radians", _MLP.format(phase="v @ self.B.T",
                                                         encode="torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)")),
        ("B trainable (an nn.Parameter)", _MLP.format(buffer="self.B = torch.nn.Parameter(B.clone())")),
        ("B a plain attribute (not saved with the model)", _MLP.format(buffer="self.B = B.clone()")),
        ("ReLU after the output layer too", _MLP.format(
            tail="torch.nn.Linear(hidden, 3), torch.nn.ReLU()")),
        ("one hidden layer", _MLP.format(layers="torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3)")),
        ("tanh instead of ReLU", _MLP.format(
            layers="torch.nn.Linear(width, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, hidden), torch.nn.Tanh(), "
                   "torch.nn.Linear(hidden, 3)")),
        ("only the cosines", _MLP.format(encode="torch.cos(phase)",
                                         layers="torch.nn.Linear(width // 2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), "
                                                "torch.nn.ReLU(), torch.nn.Linear(hidden, 3)")),
    ],
}

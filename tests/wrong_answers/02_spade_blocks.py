"""Plausible wrong answers to the exercises of notebooks/02_spade_blocks.ipynb (see README.md)."""

_CONVERT = "def to_code_convention(gamma_conv):\n"
_NORM = "def instance_norm(x, eps=1e-5):\n"
_STEP = "def power_iteration_step(weight, u):\n    w = weight.reshape(weight.shape[0], -1)\n"

_SPADE = '''def spade(x, segmap, p, eps=1e-5):
    mean = x.mean(dim={stats}, keepdim=True)
    var = x.var(dim={stats}, unbiased={unbiased}, keepdim=True)
    normalized = {norm}
    seg = F.interpolate({seg_in}, size=x.shape[2:], mode={mode})
    actv = {relu}(F.conv2d(seg, p["shared_w"], p["shared_b"], padding=1))
    gamma = F.conv2d(actv, p["gamma_w"], p["gamma_b"], padding=1)
    beta = {beta}
    return {out}
'''


def _spade(**changes) -> str:
    parts = {"stats": "(0, 2, 3)", "unbiased": "False", "norm": "(x - mean) / torch.sqrt(var + eps)",
             "seg_in": "segmap", "mode": '"nearest"', "relu": "F.relu",
             "beta": 'F.conv2d(actv, p["beta_w"], p["beta_b"], padding=1)', "out": "normalized * (1 + gamma) + beta"}
    return _SPADE.format(**{**parts, **changes})


class _Count:
    """``_COUNT.format(**changes)``: spade_block_parameters with some of its terms written wrongly."""

    @staticmethod
    def format(layer="(9 * label_nc + 1) * hidden + 2 * (9 * hidden + 1) * norm_nc", fmid="min(fin, fout)",
               block="(9 * fin + 1) * fmid + (9 * fmid + 1) * fout", short="spade_layer(fin) + fin * fout",
               cond="fin != fout") -> str:
        return f'''def spade_block_parameters(fin, fout, label_nc, hidden):
    def spade_layer(norm_nc):
        return {layer}

    fmid = {fmid}
    count = spade_layer(fin) + spade_layer(fmid) + {block}
    if {cond}:
        count += {short}
    return count
'''


_COUNT = _Count()

WRONG = {
    "02-ex1-solution": [
        ("bias raised by 1 instead of lowered", _CONVERT + '''    new = copy.deepcopy(gamma_conv)
    with torch.no_grad():
        if new.bias is None:
            new.bias = torch.nn.Parameter(torch.full((new.out_channels,), 1.0))
        else:
            new.bias += 1.0
    return new
'''),
        ("1 subtracted from the weights instead of the bias", _CONVERT + '''    new = copy.deepcopy(gamma_conv)
    with torch.no_grad():
        new.weight -= 1.0
    return new
'''),
        ("the given conv changed in place", _CONVERT + '''    with torch.no_grad():
        if gamma_conv.bias is None:
            gamma_conv.bias = torch.nn.Parameter(torch.full((gamma_conv.out_channels,), -1.0))
        else:
            gamma_conv.bias -= 1.0
    return gamma_conv
'''),
        ("copy.copy: the new conv shares the parameters", _CONVERT + '''    new = copy.copy(gamma_conv)
    with torch.no_grad():
        if new.bias is None:
            new.bias = torch.nn.Parameter(torch.full((new.out_channels,), -1.0))
        else:
            new.bias -= 1.0
    return new
'''),
        ("a conv without a bias not handled", _CONVERT + '''    new = copy.deepcopy(gamma_conv)
    with torch.no_grad():
        new.bias -= 1.0
    return new
'''),
        ("a conv without a bias returned unchanged", _CONVERT + '''    new = copy.deepcopy(gamma_conv)
    if new.bias is not None:
        with torch.no_grad():
            new.bias -= 1.0
    return new
'''),
        ("an unchanged copy (the forms are thought equal)", _CONVERT + '''    return copy.deepcopy(gamma_conv)
'''),
        ("a fresh conv with bias -1 (weights not copied)", _CONVERT + '''    new = torch.nn.Conv2d(gamma_conv.in_channels, gamma_conv.out_channels, gamma_conv.kernel_size,
                          padding=gamma_conv.padding)
    with torch.no_grad():
        new.bias.fill_(-1.0)
    return new
'''),
    ],
    "02-ex2-solution": [
        ("unbiased variance (divide by HW - 1)", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=True)
    return (x - mean) / torch.sqrt(var + eps)
'''),
        ("statistics over (C, H, W): layer norm", _NORM + '''    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    var = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)
'''),
        ("statistics over (N, H, W): batch norm", _NORM + '''    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)
'''),
        ("no epsilon (a constant map gives 0 / 0)", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var)
'''),
        ("divided by the variance, not its square root", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (var + eps)
'''),
        ("mean not subtracted", _NORM + '''    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return x / torch.sqrt(var + eps)
'''),
        ("eps added to the standard deviation", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.std(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (std + eps)
'''),
        ("the eps argument ignored (1e-5 hard-coded)", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + 1e-5)
'''),
        ("eps clamps the variance from below instead of adding to it", _NORM + '''    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var.clamp(min=eps))
'''),
    ],
    "02-ex3-solution": [
        ("the exact largest singular value (torch.linalg.matrix_norm)", _STEP + '''    v = F.normalize(w.t() @ u, dim=0)
    u = F.normalize(w @ v, dim=0)
    return torch.linalg.matrix_norm(w, ord=2).item(), u, v
'''),
        ("the exact singular triple from an SVD", _STEP + '''    U, S, Vh = torch.linalg.svd(w, full_matrices=False)
    return S[0].item(), U[:, 0], Vh[0]
'''),
        ("normalised by the Frobenius norm", _STEP + '''    v = F.normalize(w.t() @ u, dim=0)
    u = F.normalize(w @ v, dim=0)
    return torch.linalg.norm(w).item(), u, v
'''),
        ("v not normalised", _STEP + '''    v = w.t() @ u
    u = F.normalize(w @ v, dim=0)
    return float(u @ w @ v), u, v
'''),
        ("W instead of W^T for v", _STEP + '''    v = F.normalize(w @ u, dim=0)
    u = F.normalize(w @ v, dim=0)
    return float(u @ w @ v), u, v
'''),
        ("sigma estimated with the old u", _STEP + '''    v = F.normalize(w.t() @ u, dim=0)
    u_new = F.normalize(w @ v, dim=0)
    return float(u @ w @ v), u_new, v
'''),
        ("u not updated", _STEP + '''    v = F.normalize(w.t() @ u, dim=0)
    return float(u @ w @ v), u, v
'''),
        ("two rounds instead of one", _STEP + '''    for _ in range(2):
        v = F.normalize(w.t() @ u, dim=0)
        u = F.normalize(w @ v, dim=0)
    return float(u @ w @ v), u, v
'''),
        ("weight reshaped to (rest, out) instead of (out, rest)", '''def power_iteration_step(weight, u):
    w = weight.reshape(-1, weight.shape[0]).t()
    v = F.normalize(w.t() @ u, dim=0)
    u = F.normalize(w @ v, dim=0)
    return float(u @ w @ v), u, v
'''),
        ("sigma estimate squared (v^T W^T W v)", _STEP + '''    v = F.normalize(w.t() @ u, dim=0)
    u = F.normalize(w @ v, dim=0)
    return float((w @ v) @ (w @ v)), u, v
'''),
    ],
    "02-ex4-solution": [
        ("instance norm: statistics per image", _spade(stats="(2, 3)")),
        ("unbiased variance", _spade(unbiased="True")),
        ("eps added to the standard deviation", _spade(norm="(x - mean) / (var.sqrt() + eps)")),
        ("no 1 +: the paper's x_hat gamma + beta with the code's convs", _spade(out="normalized * gamma + beta")),
        ("labels resized bilinearly", _spade(mode='"bilinear"')),
        ("no ReLU after the shared conv", _spade(relu="")),
        ("gamma and beta from the same conv", _spade(beta='F.conv2d(actv, p["gamma_w"], p["gamma_b"], padding=1)')),
        ("normalization left out", _spade(norm="x")),
        ("gamma and beta computed from x instead of the labels",
         _spade(beta='F.conv2d(actv, p["beta_w"], p["beta_b"], padding=1) + 0 * x', seg_in="x[:, :0].new_zeros(x.shape[0], segmap.shape[1], *x.shape[2:]) + segmap.mean()")),
    ],
    "02-ex5-solution": [
        ("conv biases forgotten", _COUNT.format(layer="9 * label_nc * hidden + 2 * 9 * hidden * norm_nc",
                                                block="9 * fin * fmid + 9 * fmid * fout", short="fin * fout")),
        ("the shortcut's SPADE layer forgotten", _COUNT.format(short="fin * fout")),
        ("the 1x1 shortcut conv given a bias", _COUNT.format(short="spade_layer(fin) + fin * fout + fout")),
        ("f_mid = fout", _COUNT.format(fmid="fout")),
        ("one conv for gamma and beta together", _COUNT.format(layer="(9 * label_nc + 1) * hidden + (9 * hidden + 1) * norm_nc")),
        ("a learned shortcut in every block", _COUNT.format(cond="True")),
        ("1x1 convs inside SPADE", _COUNT.format(layer="(label_nc + 1) * hidden + 2 * (hidden + 1) * norm_nc")),
        ("spectral norm's u and v counted", _COUNT.format(
            block="(9 * fin + 1) * fmid + fmid + 9 * fin + (9 * fmid + 1) * fout + fout + 9 * fmid")),
    ],
}

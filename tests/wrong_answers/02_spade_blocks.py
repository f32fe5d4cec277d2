"""Plausible wrong answers to the exercises of notebooks/02_spade_blocks.ipynb (see README.md)."""

_CONVERT = "def to_code_convention(gamma_conv):\n"
_NORM = "def instance_norm(x, eps=1e-5):\n"
_STEP = "def power_iteration_step(weight, u):\n    w = weight.reshape(weight.shape[0], -1)\n"

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
}

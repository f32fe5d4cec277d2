"""Plausible wrong answers to the exercises of notebooks/05_training.ipynb (see README.md)."""

_G_OK = '''

def g_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()
'''
_D_OK = '''
def d_hinge_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    if real:
        return torch.relu(1 - logits).mean()
    return torch.relu(1 + logits).mean()

'''

_ARM_OK = '''
def train_arm(cfg, lambda_feat, folder):
    arm = copy.deepcopy(cfg)
    arm.train.lambda_feat = lambda_feat
    return pg.load_or_train(arm, folder, progress=False).eval()
'''
_ERRORS_OK = '''
def held_out_color_errors(G, cfg, n):
    scenes = pg.eval.scenes.synthetic_scenes(cfg, n, 1.0)
    sem = pg.data.to_semantics(scenes.label, scenes.instance, cfg.data.label_set)
    G.eval()
    with torch.no_grad():
        fake = G(sem)
    return torch.tensor([pg.eval.metrics.class_color_error(fake[i:i + 1], scenes.image[i:i + 1],
                                                           scenes.label[i:i + 1]) for i in range(n)])
'''
_PAIRED_OK = '''
def paired_difference(errors_a, errors_b):
    diff = (errors_a - errors_b).double()
    return float(diff.mean()), float(diff.std() / len(diff) ** 0.5)
'''

_CONV_HEAD = '''
def conv_operator_norm(weight, stride=1, padding=0, size=(32, 32), iterations=100):
    weight = weight.detach().double()
'''

WRONG = {
    "05-ex1-solution": [
        ("real and fake margins swapped", '''
def d_hinge_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    if real:
        return torch.relu(1 + logits).mean()
    return torch.relu(1 - logits).mean()
''' + _G_OK),
        ("no max(0, .): a linear loss without a margin", '''
def d_hinge_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    if real:
        return (1 - logits).mean()
    return (1 + logits).mean()
''' + _G_OK),
        ("sum instead of mean", '''
def d_hinge_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    if real:
        return torch.relu(1 - logits).sum()
    return torch.relu(1 + logits).sum()
''' + _G_OK),
        ("generator also uses the hinge (saturates)", _D_OK + '''
def g_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return torch.relu(1 - fake_logits).mean()
'''),
        ("generator sign flipped", _D_OK + '''
def g_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return fake_logits.mean()
'''),
        ("margin at 0 instead of 1", '''
def d_hinge_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    if real:
        return torch.relu(-logits).mean()
    return torch.relu(logits).mean()
''' + _G_OK),
    ],
    "05-ex2-solution": [
        ("mean instead of sum", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
'''),
        ("the factor 1/2 forgotten", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
'''),
        ("sign flipped", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
'''),
        ("logvar taken for the variance", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar)
'''),
        ("exp(logvar / 2), the standard deviation, taken for the variance", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - torch.exp(logvar / 2))
'''),
        ("mu not squared", '''
def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.abs() - logvar.exp())
'''),
    ],
    "05-ex3-solution": [
        ("sigma of the reshaped kernel matrix (what spectral normalization bounds)", _CONV_HEAD + '''
    return float(torch.linalg.matrix_norm(weight.flatten(1), ord=2))
'''),
        ("Frobenius norm of the kernel", _CONV_HEAD + '''
    return float(weight.norm())
'''),
        ("k times sigma of the reshaped matrix (a bound, not the norm)", _CONV_HEAD + '''
    k = weight.shape[-1] * weight.shape[-2]
    return float(k ** 0.5 * torch.linalg.matrix_norm(weight.flatten(1), ord=2))
'''),
        ("power iteration on A alone (spectral radius, not the largest singular value)", _CONV_HEAD + '''
    x = torch.randn(1, weight.shape[1], *size, dtype=torch.float64)
    for _ in range(iterations):
        y = F.conv2d(x, weight, stride=stride, padding=padding)
        value = y.norm() / x.norm()
        x = y / y.norm()
    return float(value)
'''),
        ("stride ignored", _CONV_HEAD + '''
    x = torch.randn(1, weight.shape[1], *size, dtype=torch.float64)

    def conv(t):
        return F.conv2d(t, weight, padding=padding)

    for _ in range(iterations):
        x = x / x.norm()
        _, x = torch.autograd.functional.vjp(conv, x, conv(x))
    return float(conv(x / x.norm()).norm())
'''),
        ("padding ignored", _CONV_HEAD + '''
    x = torch.randn(1, weight.shape[1], *size, dtype=torch.float64)

    def conv(t):
        return F.conv2d(t, weight, stride=stride)

    for _ in range(iterations):
        x = x / x.norm()
        _, x = torch.autograd.functional.vjp(conv, x, conv(x))
    return float(conv(x / x.norm()).norm())
'''),
        ("the eigenvalue of A^T A (the squared norm) returned", _CONV_HEAD + '''
    x = torch.randn(1, weight.shape[1], *size, dtype=torch.float64)

    def conv(t):
        return F.conv2d(t, weight, stride=stride, padding=padding)

    for _ in range(iterations):
        x = x / x.norm()
        _, x = torch.autograd.functional.vjp(conv, x, conv(x))
    return float(x.norm())
'''),
        ("largest absolute Fourier coefficient of the kernel (circular, stride 1 only)", _CONV_HEAD + '''
    spectrum = torch.fft.fft2(weight, s=size)  # (C_out, C_in, H, W)
    return float(torch.linalg.matrix_norm(spectrum.permute(2, 3, 0, 1), ord=2).max())
'''),
    ],
    "05-ex4-solution": [
        ("the caller's cfg changed in place", '''
def train_arm(cfg, lambda_feat, folder):
    cfg.train.lambda_feat = lambda_feat
    return pg.load_or_train(cfg, folder, progress=False).eval()
''' + _ERRORS_OK + _PAIRED_OK),
        ("lambda_feat never set: both arms identical", '''
def train_arm(cfg, lambda_feat, folder):
    arm = copy.deepcopy(cfg)
    return pg.load_or_train(arm, folder, progress=False).eval()
''' + _ERRORS_OK + _PAIRED_OK),
        ("a different seed per arm", '''
def train_arm(cfg, lambda_feat, folder):
    arm = copy.deepcopy(cfg)
    arm.train.lambda_feat = lambda_feat
    arm.train.seed = int(lambda_feat)
    return pg.load_or_train(arm, folder, progress=False).eval()
''' + _ERRORS_OK + _PAIRED_OK),
        ("always trains (a finished run in folder is an error)", '''
def train_arm(cfg, lambda_feat, folder):
    arm = copy.deepcopy(cfg)
    arm.train.lambda_feat = lambda_feat
    return pg.train.train(arm, folder, progress=False).generator.eval()
''' + _ERRORS_OK + _PAIRED_OK),
        ("scored on training scenes", _ARM_OK + '''
def held_out_color_errors(G, cfg, n):
    data = pg.data.synthetic.SyntheticStreets(size=cfg.model.image_size, length=n,
                                              seed=cfg.data.synthetic_seed, split="train")
    items = [data[i] for i in range(n)]
    label = torch.stack([it["label"] for it in items])
    instance = torch.stack([it["instance"] for it in items])
    image = torch.stack([it["image"] for it in items])
    sem = pg.data.to_semantics(label, instance, cfg.data.label_set)
    G.eval()
    with torch.no_grad():
        fake = G(sem)
    return torch.tensor([pg.eval.metrics.class_color_error(fake[i:i + 1], image[i:i + 1], label[i:i + 1])
                         for i in range(n)])
''' + _PAIRED_OK),
        ("generator left in training mode (batch statistics)", _ARM_OK + '''
def held_out_color_errors(G, cfg, n):
    scenes = pg.eval.scenes.synthetic_scenes(cfg, n, 1.0)
    sem = pg.data.to_semantics(scenes.label, scenes.instance, cfg.data.label_set)
    with torch.no_grad():
        fake = G(sem)
    return torch.tensor([pg.eval.metrics.class_color_error(fake[i:i + 1], scenes.image[i:i + 1],
                                                           scenes.label[i:i + 1]) for i in range(n)])
''' + _PAIRED_OK),
        ("one error for the whole set instead of one per scene", _ARM_OK + '''
def held_out_color_errors(G, cfg, n):
    scenes = pg.eval.scenes.synthetic_scenes(cfg, n, 1.0)
    sem = pg.data.to_semantics(scenes.label, scenes.instance, cfg.data.label_set)
    G.eval()
    with torch.no_grad():
        fake = G(sem)
    return torch.tensor(pg.eval.metrics.class_color_error(fake, scenes.image, scenes.label))
''' + _PAIRED_OK),
        ("L1 to the photo instead of the class colour error", _ARM_OK + '''
def held_out_color_errors(G, cfg, n):
    scenes = pg.eval.scenes.synthetic_scenes(cfg, n, 1.0)
    sem = pg.data.to_semantics(scenes.label, scenes.instance, cfg.data.label_set)
    G.eval()
    with torch.no_grad():
        fake = G(sem)
    return (fake - scenes.image).abs().mean((1, 2, 3))
''' + _PAIRED_OK),
        ("standard error with the population std", _ARM_OK + _ERRORS_OK + '''
def paired_difference(errors_a, errors_b):
    diff = (errors_a - errors_b).double()
    return float(diff.mean()), float(diff.std(unbiased=False) / len(diff) ** 0.5)
'''),
        ("unpaired standard error", _ARM_OK + _ERRORS_OK + '''
def paired_difference(errors_a, errors_b):
    a, b = errors_a.double(), errors_b.double()
    se = (a.var() / len(a) + b.var() / len(b)) ** 0.5
    return float(a.mean() - b.mean()), float(se)
'''),
        ("standard deviation instead of standard error", _ARM_OK + _ERRORS_OK + '''
def paired_difference(errors_a, errors_b):
    diff = (errors_a - errors_b).double()
    return float(diff.mean()), float(diff.std())
'''),
    ],
}

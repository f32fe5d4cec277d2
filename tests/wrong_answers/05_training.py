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

_STEP = r'''
def training_step(G, D, opt_G, opt_D, ema, sem, real, lambda_feat=10.0, decay=0.999):
    """One G step, the EMA update, one D step; returns {"G_GAN", "G_feat", "D_fake", "D_real"} as floats."""
    B = real.shape[0]
    fake = G(sem)  # (B, 3, H, W)
    pred = D(torch.cat([torch.cat([sem, fake], 1), torch.cat([sem, real], 1)], 0))  # fake and real in one batch
    g_gan = sum(-scale[-1][:B].mean() for scale in pred) / len(pred)
    g_feat = sum(F.l1_loss(f[:B], f[B:].detach()) for scale in pred for f in scale[:-1]) * lambda_feat / len(pred)
    opt_G.zero_grad()
    (g_gan + g_feat).backward()
    opt_G.step()
    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), G.parameters()):
            p_ema.mul_(decay).add_(p, alpha=1 - decay)
        for b_ema, b in zip(ema.buffers(), G.buffers()):
            b_ema.copy_(b)
    pred = D(torch.cat([torch.cat([sem, fake.detach()], 1), torch.cat([sem, real], 1)], 0))
    d_fake = sum(F.relu(1 + scale[-1][:B]).mean() for scale in pred) / len(pred)
    d_real = sum(F.relu(1 - scale[-1][B:]).mean() for scale in pred) / len(pred)
    opt_D.zero_grad()
    (d_fake + d_real).backward()
    opt_D.step()
    return {"G_GAN": g_gan.item(), "G_feat": g_feat.item(), "D_fake": d_fake.item(), "D_real": d_real.item()}
'''
_SIZE = r'''
def logit_size(height: int, width: int, n_layers: int = 3, scale: int = 0) -> tuple[int, int]:
    """(h, w) of the patch logits of scale `scale` of the multiscale discriminator for (height, width) images."""
    def conv(n, kernel, stride, padding):
        return (n + 2 * padding - kernel) // stride + 1

    sizes = []
    for n in (height, width):
        for _ in range(scale):
            n = conv(n, 3, 2, 1)  # the average pooling between scales
        n = conv(n, 4, 2, 2)  # the first conv
        for layer in range(1, n_layers):
            n = conv(n, 4, 1 if layer == n_layers - 1 else 2, 2)
        sizes.append(conv(n, 4, 1, 2))  # the logit conv
    return tuple(sizes)
'''


def _step(old: str, new: str) -> str:
    assert old in _STEP, old
    return _STEP.replace(old, new)


def _step_ema_first() -> str:
    ema = """    with torch.no_grad():
        for p_ema, p in zip(ema.parameters(), G.parameters()):
            p_ema.mul_(decay).add_(p, alpha=1 - decay)
        for b_ema, b in zip(ema.buffers(), G.buffers()):
            b_ema.copy_(b)
"""
    body = _STEP.replace(ema, "")
    return body.replace("    B = real.shape[0]\n", "    B = real.shape[0]\n" + ema)


def _size(old: str, new: str) -> str:
    assert old in _SIZE, old
    return _SIZE.replace(old, new)


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
    "05-ex5-solution": [
        ("the fake not detached in the D step", _step("fake.detach()", "fake")),
        ("D's gradients from the G step not zeroed before the D step", _step("    opt_D.zero_grad()\n", "")),
        ("G's gradients never zeroed", _step("    opt_G.zero_grad()\n", "")),
        ("EMA weights swapped: decay on the new weights", _step("p_ema.mul_(decay).add_(p, alpha=1 - decay)",
                                                                 "p_ema.mul_(1 - decay).add_(p, alpha=decay)")),
        ("EMA buffers not copied", _step("            b_ema.copy_(b)\n", "            pass\n")),
        ("EMA updated from G's weights before the G step", _step_ema_first()),
        ("feature matching summed over the scales, not averaged", _step(
            "* lambda_feat / len(pred)", "* lambda_feat")),
        ("feature matching on the logits too", _step("for f in scale[:-1])", "for f in scale)")),
        ("the G step with D's hinge (relu(1 - x)) instead of -x", _step(
            "g_gan = sum(-scale[-1][:B].mean() for scale in pred) / len(pred)",
            "g_gan = sum(F.relu(1 - scale[-1][:B]).mean() for scale in pred) / len(pred)")),
        ("the losses returned as tensors", _step(
            'return {"G_GAN": g_gan.item(), "G_feat": g_feat.item(), "D_fake": d_fake.item(), "D_real": d_real.item()}',
            'return {"G_GAN": g_gan, "G_feat": g_feat, "D_fake": d_fake, "D_real": d_real}')),
        ("real and fake pairs scored in two batches, real first", _step(
            "pred = D(torch.cat([torch.cat([sem, fake], 1), torch.cat([sem, real], 1)], 0))",
            "pred = [[torch.cat([r, f_]) for r, f_ in zip(sr, sf)] for sr, sf in zip(D(torch.cat([sem, real], 1)), "
            "D(torch.cat([sem, fake], 1)))]")),
    ],
    "05-ex6-solution": [
        ("ceil instead of floor", _size("(n + 2 * padding - kernel) // stride + 1",
                                        "-(-(n + 2 * padding - kernel) // stride) + 1")),
        ("padding 1", _size("n = conv(n, 4, 2, 2)  # the first conv", "n = conv(n, 4, 2, 1)")
         .replace("n = conv(n, 4, 1 if layer == n_layers - 1 else 2, 2)", "n = conv(n, 4, 1 if layer == n_layers - 1 else 2, 1)")
         .replace("sizes.append(conv(n, 4, 1, 2))", "sizes.append(conv(n, 4, 1, 1))")),
        ("stride-1 convs keep the size", _size("(n + 2 * padding - kernel) // stride + 1",
                                                "n if stride == 1 else (n + 2 * padding - kernel) // stride + 1")),
        ("the pooling halves exactly", _size("n = conv(n, 3, 2, 1)  # the average pooling between scales", "n = n // 2")),
        ("no pooling between the scales", _size("n = conv(n, 3, 2, 1)  # the average pooling between scales", "pass")),
        ("every middle conv with stride 2", _size("1 if layer == n_layers - 1 else 2", "2")),
        ("n_layers ignored (always 3)", _size("for layer in range(1, n_layers):", "for layer in range(1, 3):")
         .replace("1 if layer == n_layers - 1 else 2", "1 if layer == 2 else 2")),
        ("a list, not a tuple", _size("return tuple(sizes)", "return sizes")),
    ],
}

"""Plausible wrong answers to the exercises of notebooks/07_evaluation.ipynb (see README.md)."""

_MIOU_HEAD = '''
def miou_from_confusion(confusion):
    confusion = confusion.double()
    tp = confusion.diag()
'''

_FD_HEAD = '''
def _sqrtm(a):
    values, vectors = torch.linalg.eigh(a)
    return vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(mu1, cov1, mu2, cov2):
    mu1, cov1, mu2, cov2 = (t.double() for t in (mu1, cov1, mu2, cov2))
    mean_term = (mu1 - mu2).pow(2).sum()
'''
_TRACE_ROOT = '''
    root1 = _sqrtm(cov1)
    middle = root1 @ cov2 @ root1
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
'''

_KID = """
def kid(real, fake):
    {cast}
    m, n, d = x.shape[0], y.shape[0], x.shape[1]
    k_xx, k_yy, k_xy = (({kernel}) for a, b in ((x, x), (y, y), (x, y)))
    within = {within}
    return {ret}
"""


def _kid(cast="x, y = real.double(), fake.double()", kernel="(a @ b.T / d + 1) ** 3",
         within="(k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1)) + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))",
         cross="2 * k_xy.mean()", ret=None) -> str:
    return _KID.format(cast=cast, kernel=kernel, within=within, ret=ret or f"float(within - {cross})")


_TEX = """
def texture_psnr(var_fake, var_real):
    textured = {factor} * math.log10({range_} ** 2 / ({textured}))
    flat = {factor} * math.log10({range_} ** 2 / ({flat}))
    return float(textured), float(flat)
"""


def _tex(range_="2", textured="var_fake + var_real", flat="var_real", factor="10") -> str:
    return _TEX.format(range_=range_, textured=textured, flat=flat, factor=factor)


_PEAK_OK = '''

def psnr_peak(rows):
    return max(rows, key=lambda row: row["psnr"])["sigma"]
'''


def _sweep(psnr: str = "float(10 * torch.log10(4 / (out - real).pow(2).mean()))",
           sharpness: str = "float(gradient_energy(out, band).sum() / energy_real)",
           band: str = "boundary_band(label, radius)", energy_real: str = "gradient_energy(real, band).sum()",
           blurred: str = "fake if sigma == 0 else blur(fake, sigma)", target: str = "real") -> str:
    return f'''
def blur_sweep(fake, real, label, sigmas, radius=2):
    band = {band}
    energy_real = {energy_real}
    rows = []
    for sigma in sigmas:
        out = {blurred}
        real_used = {target}
        rows.append({{"sigma": sigma, "psnr": {psnr.replace("real", "real_used")},
                     "sharpness": {sharpness}}})
    return rows
'''


WRONG = {
    "07-ex1-solution": [
        ("mean over all K classes, absent ones included", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.zeros_like(tp))
    return float(iou.mean()), float(tp.sum() / confusion.sum())
'''),
        ("union without subtracting the true positives", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1)
    present = union > 0
    return float((tp[present] / union[present]).mean()), float(tp.sum() / confusion.sum())
'''),
        ("recall (TP / row sum) instead of IoU", _MIOU_HEAD + '''
    rows = confusion.sum(1)
    present = rows > 0
    return float((tp[present] / rows[present]).mean()), float(tp.sum() / confusion.sum())
'''),
        ("only classes present in the predictions count", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = confusion.sum(0) > 0
    return float((tp[present] / union[present]).mean()), float(tp.sum() / confusion.sum())
'''),
        ("classes with a true positive only (IoU 0 classes dropped)", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = tp > 0
    return float((tp[present] / union[present]).mean()) if present.any() else 0.0, float(tp.sum() / confusion.sum())
'''),
        ("only classes present in the labels count", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = confusion.sum(1) > 0
    return float((tp[present] / union[present]).mean()), float(tp.sum() / confusion.sum())
'''),
        ("accuracy as the mean per-class accuracy", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = union > 0
    rows = confusion.sum(1)
    labelled = rows > 0
    return float((tp[present] / union[present]).mean()), float((tp[labelled] / rows[labelled]).mean())
'''),
        ("frequency-weighted IoU instead of the mean", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = union > 0
    weights = confusion.sum(1) / confusion.sum()
    return float((weights[present] * tp[present] / union[present]).sum()), float(tp.sum() / confusion.sum())
'''),
        ("tensors returned instead of Python floats", _MIOU_HEAD + '''
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = union > 0
    return (tp[present] / union[present]).mean(), tp.sum() / confusion.sum()
'''),
    ],
    "07-ex2-solution": [
        ("Tr(S1^(1/2) S2^(1/2)): square roots of each covariance multiplied", _FD_HEAD + '''
    trace_root = (_sqrtm(cov1) @ _sqrtm(cov2)).trace()
    return float(mean_term + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("the mean term forgotten", _FD_HEAD + _TRACE_ROOT + '''
    return float(cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("|mu1 - mu2| not squared", _FD_HEAD + _TRACE_ROOT + '''
    return float((mu1 - mu2).norm() + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("square root of the trace of S1 S2", _FD_HEAD + '''
    trace_root = (cov1 @ cov2).trace().sqrt()
    return float(mean_term + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("square roots of the traces multiplied", _FD_HEAD + '''
    trace_root = cov1.trace().sqrt() * cov2.trace().sqrt()
    return float(mean_term + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("eigvalsh of the non-symmetric product S1 S2", _FD_HEAD + '''
    trace_root = torch.linalg.eigvalsh(cov1 @ cov2).clamp(min=0).sqrt().sum()
    return float(mean_term + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("element-wise square root of S1 S2", _FD_HEAD + '''
    trace_root = (cov1 @ cov2).clamp(min=0).sqrt().trace()
    return float(mean_term + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
        ("the factor 2 forgotten", _FD_HEAD + _TRACE_ROOT + '''
    return float(mean_term + cov1.trace() + cov2.trace() - trace_root)
'''),
        ("the distance returned instead of its square", _FD_HEAD + _TRACE_ROOT + '''
    return float((mean_term + cov1.trace() + cov2.trace() - 2 * trace_root).clamp(min=0).sqrt())
'''),
        ("negative eigenvalues not clamped (NaN on singular covariances)", '''
def frechet_distance(mu1, cov1, mu2, cov2):
    mu1, cov1, mu2, cov2 = (t.double() for t in (mu1, cov1, mu2, cov2))
    values, vectors = torch.linalg.eigh(cov1)
    root1 = vectors @ torch.diag(values.sqrt()) @ vectors.T
    middle = root1 @ cov2 @ root1
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).sqrt().sum()
    return float((mu1 - mu2).pow(2).sum() + cov1.trace() + cov2.trace() - 2 * trace_root)
'''),
    ],
    "07-ex3-solution": [
        ("mean of per-image PSNRs instead of the PSNR of the set",
         _sweep(psnr="float((10 * torch.log10(4 / (out - real).pow(2).mean((1, 2, 3)))).mean())") + _PEAK_OK),
        ("PSNR with a data range of 1", _sweep(psnr="float(10 * torch.log10(1 / (out - real).pow(2).mean()))")
         + _PEAK_OK),
        ("sharpness inverted (photo over generated)",
         _sweep(sharpness="float(energy_real / gradient_energy(out, band).sum())") + _PEAK_OK),
        ("gradient energy of the whole image, not the band",
         _sweep(band="torch.ones_like(label, dtype=torch.bool)") + _PEAK_OK),
        ("mean of per-image sharpness ratios",
         _sweep(sharpness="float((gradient_energy(out, band) / gradient_energy(real, band)).mean())") + _PEAK_OK),
        ("radius ignored (always 2)", _sweep(band="boundary_band(label, 2)") + _PEAK_OK),
        ("sharpness relative to the unblurred generated image, not the photo",
         _sweep(energy_real="gradient_energy(fake, band).sum()") + _PEAK_OK),
        ("the photo blurred too", _sweep(target="real if sigma == 0 else blur(real, sigma)") + _PEAK_OK),
        ("blur called with sigma 0", _sweep(blurred="blur(fake, sigma)")
         + _PEAK_OK),
        ("peak returns the index of the best row", _sweep() + '''

def psnr_peak(rows):
    return max(range(len(rows)), key=lambda i: rows[i]["psnr"])
'''),
        ("peak at the lowest PSNR", _sweep() + '''

def psnr_peak(rows):
    return min(rows, key=lambda row: row["psnr"])["sigma"]
'''),
        ("peak at the sharpest blur", _sweep() + '''

def psnr_peak(rows):
    return max(rows, key=lambda row: row["sharpness"])["sigma"]
'''),
    ],
    "07-ex4-solution": [
        ("the biased estimate: the diagonal kept", _kid(within="k_xx.mean() + k_yy.mean()")),
        ("the kernel without the division by d", _kid(kernel="(a @ b.T + 1) ** 3")),
        ("a quadratic kernel", _kid(kernel="(a @ b.T / d + 1) ** 2")),
        ("the cross term counted once", _kid(cross="k_xy.mean()")),
        ("within-set sums divided by m^2 (diagonal removed)", _kid(
            within="(k_xx.sum() - k_xx.diagonal().sum()) / (m * m) + (k_yy.sum() - k_yy.diagonal().sum()) / (n * n)")),
        ("a linear kernel: the distance between the means", _kid(kernel="a @ b.T / d")),
        ("a 0-dim tensor returned", _kid(ret="within - 2 * k_xy.mean()")),
    ],
    "07-ex5-solution": [
        ("the data range taken as 1", _tex(range_="1")),
        ("the generator's texture forgotten: MSE = v_real", _tex(textured="var_real")),
        ("standard deviations added instead of variances", _tex(textured="(var_fake ** 0.5 + var_real ** 0.5) ** 2")),
        ("the flat painting's error taken as the generator's texture", _tex(flat="var_fake")),
        ("20 log10 (amplitude dB)", _tex(factor="20")),
        ("tensors returned", _tex().replace("return float(textured), float(flat)",
                                             "return torch.tensor(textured), torch.tensor(flat)")),
    ],
}

"""Plausible wrong answers to notebook 04's exercises (see README.md); each must fail its tests."""

_EX2_CORRECT = r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}
'''
_COIN = """def coinciding_centres(n, factor):
    {body}
"""

WRONG = {
    '04-ex1-solution': [
        ('dontcare channel not mapped back to dontcare_id', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes + (dontcare_id is not None)  # label channels, dontcare included
    label = sem[:channels].argmax(0)  # (H, W): the channel that is on
    if dontcare_id is not None:
        pass
    return label.long(), sem[-1] > 0.5'''),
        ('dontcare channel left out of the argmax (unlabeled pixels become class 0)', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes  # label channels, dontcare included
    label = sem[:channels].argmax(0)  # (H, W): the channel that is on
    if dontcare_id is not None:
        label[label == num_classes] = dontcare_id  # the dontcare channel holds id dontcare_id
    return label.long(), sem[-1] > 0.5'''),
        ('edges read from the channel after the label ids (the dontcare channel on COCO-Stuff)', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes + (dontcare_id is not None)  # label channels, dontcare included
    label = sem[:channels].argmax(0)  # (H, W): the channel that is on
    if dontcare_id is not None:
        label[label == num_classes] = dontcare_id  # the dontcare channel holds id dontcare_id
    return label.long(), sem[num_classes] > 0.5'''),
        ('dontcare always mapped to 255', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes + (dontcare_id is not None)  # label channels, dontcare included
    label = sem[:channels].argmax(0)  # (H, W): the channel that is on
    if dontcare_id is not None:
        label[label == num_classes] = 255  # the dontcare channel holds id dontcare_id
    return label.long(), sem[-1] > 0.5'''),
        ('ids counted from 1 (channel k read as id k + 1)', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes + (dontcare_id is not None)  # label channels, dontcare included
    label = sem[:channels].argmax(0) + 1  # (H, W)
    if dontcare_id is not None:
        label[label == num_classes + 1] = dontcare_id  # the dontcare channel holds id dontcare_id
    return label.long(), sem[-1] > 0.5'''),
        ('edge map returned as floats', r'''
def decode_semantics(sem: torch.Tensor, num_classes: int, dontcare_id: int | None = None):
    """(S, H, W) semantics -> (label (H, W) int64 ids, edges (H, W) bool)."""
    channels = num_classes + (dontcare_id is not None)  # label channels, dontcare included
    label = sem[:channels].argmax(0)  # (H, W): the channel that is on
    if dontcare_id is not None:
        label[label == num_classes] = dontcare_id  # the dontcare channel holds id dontcare_id
    return label.long(), sem[-1]'''),
    ],
    '04-ex2-solution': [
        ("numbers returned as 0-dim tensors", _EX2_CORRECT.replace(
            '"agreement": 1 - differs.float().mean().item()', '"agreement": 1 - differs.float().mean()')),
        ("near_boundary divided by the number of disagreements, 0 / 0 when they agree everywhere",
         _EX2_CORRECT.replace("max(1, differs.sum().item())", "differs.sum().item()")),
        ("agreement as a numpy float", _EX2_CORRECT.replace(
            '"agreement": 1 - differs.float().mean().item()', '"agreement": 1 - differs.float().mean().numpy()')),
        ('blocks 4i..4i+3 (the align_corners=False picture)', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * factor + (factor - 1) / 2  # (i + 1/2) f - 1/2
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('centres scaled by factor (n-1)/(n-1) = factor: u = i factor, then centred', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * factor
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('centres scaled by (factor n) / n instead of (factor n - 1) / (n - 1)', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n) / n
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('block start off by one (no + 1/2: rounds down instead of to the nearest)', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('block start rounded up (ceil) instead of to the nearest', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.ceil(u - (factor - 1) / 2).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('block centred on u with the start at u - factor / 2', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - factor / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('blocks of factor + 1 pixels (off-by-one pooling window)', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = (block_starts(h, factor)[:, None] + torch.arange(factor + 1)).clamp(max=large.shape[-2] - 1)
    cols = (block_starts(w, factor)[:, None] + torch.arange(factor + 1)).clamp(max=large.shape[-1] - 1)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('ties go to the largest id', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return -torch.mode(-blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('the centre pixel of the block instead of its mode', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return blocks[..., factor // 2, factor // 2]  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('rounded mean id of the block instead of its mode', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return blocks.flatten(-2).double().mean(-1).round().long()  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('block starts not clamped (the first block starts at -1 and wraps around)', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long()


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
        ('near_boundary as a fraction of all pixels, not of the disagreeing ones', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.float().mean().item()}'''),
        ('near_boundary measured on the agreeing pixels', r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = ~differs & near_boundary(small)
    return {"agreement": 1 - differs.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, (~differs).sum().item())}'''),
        ("agreement counted over the blocks' 4x pixels instead of the 1x pixels", r'''
def block_starts(n: int, factor: int) -> torch.Tensor:
    """(n,) int64: first index of the factor large pixels nearest to each small pixel's centre."""
    u = torch.arange(n, dtype=torch.float64) * (factor * n - 1) / (n - 1)  # centres in large-pixel units
    return torch.floor(u - (factor - 1) / 2 + 0.5).long().clamp(0, factor * n - factor)


def block_mode(large: torch.Tensor, factor: int) -> torch.Tensor:
    """(..., factor h, factor w) ids -> (..., h, w): the most frequent id of each aligned block."""
    h, w = large.shape[-2] // factor, large.shape[-1] // factor
    rows = block_starts(h, factor)[:, None] + torch.arange(factor)  # (h, factor)
    cols = block_starts(w, factor)[:, None] + torch.arange(factor)  # (w, factor)
    blocks = large[..., rows[:, None, :, None], cols[None, :, None, :]]  # (..., h, w, factor, factor)
    return torch.mode(blocks.flatten(-2), dim=-1).values  # (..., h, w)


def agreement_experiment(small: torch.Tensor, large: torch.Tensor, factor: int) -> dict:
    """{"agreement": fraction of small pixels == their block mode,
        "near_boundary": fraction of the disagreeing pixels within one pixel of a small-map boundary}."""
    differs = block_mode(large, factor) != small  # (B, h, w)
    near = differs & near_boundary(small)
    same = (large == block_mode(large, factor).repeat_interleave(factor, -2).repeat_interleave(factor, -1))
    return {"agreement": same.float().mean().item(),
            "near_boundary": near.sum().item() / max(1, differs.sum().item())}'''),
    ],
    '04-ex3-solution': [
        ("only the corners: always 2", _COIN.format(body="return 2")),
        ("gcd(n, factor) + 1 (pixel counts instead of gaps)", _COIN.format(body="return math.gcd(n, factor) + 1")),
        ("gcd(n - 1, factor) + 1", _COIN.format(body="return math.gcd(n - 1, factor) + 1")),
        ("(n - 1) // (factor - 1) + 1", _COIN.format(body="return (n - 1) // max(factor - 1, 1) + 1")),
        ("gcd without the + 1 (the last centre forgotten)", _COIN.format(body="return math.gcd(n - 1, factor - 1)")),
        ("a float (centres counted by a mean)", _COIN.format(
            body="u = [i * (factor * n - 1) / (n - 1) for i in range(n)]\n    return float(sum(x == round(x) for x in u))")),
        ("the align_corners=False centres (i + 1/2) f - 1/2", _COIN.format(
            body="return sum(((i + 0.5) * factor - 0.5) == round((i + 0.5) * factor - 0.5) for i in range(n))")),
    ],
}

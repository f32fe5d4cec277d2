"""The parity table of notebook 02 (posgen_lib.parity): passes on this package, fails on a wrong SPADE."""
from __future__ import annotations

import pytest
import torch

from posgen_lib.course.lessons import parity
from posgen_lib.models.spade import SPADE


def test_golden_check_passes(golden_dir):
    rows = parity.golden_check(golden_dir)
    names = [r.name for r in rows]
    assert len(rows) == 10 and len(set(names)) == 10
    assert all(r.ok for r in rows), parity.parity_table(rows)
    assert {"generator output [eval]", "generator output [train]", "res block up_0 [train]"} <= set(names)
    table = parity.parity_table(rows)
    assert table.count(" ok") == 10 and "FAIL" not in table


def test_golden_check_catches_a_missing_one_plus(golden_dir, monkeypatch):
    """SPADE without the '1 +' in norm(x) * (1 + gamma) + beta fails the SPADE, block and output rows."""
    def wrong(self, x, segmap):
        segmap = torch.nn.functional.interpolate(segmap, size=x.shape[2:], mode="nearest")
        actv = self.mlp_shared(segmap)
        return self.param_free_norm(x) * self.mlp_gamma(actv) + self.mlp_beta(actv)

    monkeypatch.setattr(SPADE, "forward", wrong)
    rows = {r.name: r for r in parity.golden_check(golden_dir)}
    assert rows["instance edges (get_edges)"].ok
    assert not rows["SPADE layer head_0.norm_0 [eval]"].ok
    assert not rows["generator output [train]"].ok
    assert "FAIL" in parity.parity_table(list(rows.values()))


def test_missing_reference_folder_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("POSGEN_GOLDEN_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="POSGEN_GOLDEN_DIR"):
        parity.default_golden_dir()

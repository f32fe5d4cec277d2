"""The pixel grid (posgen_lib/grid.py): one convention for coordinates, sizes, spacings and windows."""
from __future__ import annotations

import pytest
import torch

from posgen_lib import grid


def test_pixel_centres_span_minus_one_to_one_at_every_size():
    g = grid.coordinate_grid((3, 5))  # (2, H, W)
    assert g.shape == (2, 3, 5)
    torch.testing.assert_close(g[0, 0], torch.linspace(-1, 1, 5))  # x along W
    torch.testing.assert_close(g[1, :, 0], torch.linspace(-1, 1, 3))  # y along H
    assert torch.equal(grid.coordinate_grid((3, 5), rows=slice(1, 3)), g[:, 1:3])


def test_sampling_at_the_own_grid_reproduces_a_map():
    feature = torch.randn(2, 4, 6, 9)
    torch.testing.assert_close(grid.sample_at(feature, grid.coordinate_grid((6, 9))), feature)
    labels = torch.randint(0, 5, (1, 1, 6, 9)).double()
    assert torch.equal(grid.sample_at(labels, grid.coordinate_grid((6, 9), dtype=torch.float64), "nearest"), labels)


def test_sizes_and_spacings_of_a_scale():
    assert grid.scaled_size((64, 128), 2.5) == (160, 320)
    assert grid.output_size((64, 128), scale=3.3) == (211, 422) and grid.output_size((64, 128), size=(5, 7)) == (5, 7)
    with pytest.raises(ValueError, match="exactly one"):
        grid.output_size((64, 128))
    with pytest.raises(ValueError, match="finite positive"):
        grid.output_size((64, 128), scale=float("nan"))
    assert grid.pixel_spacing((64, 128), (64, 128), grid.FULL_WINDOW) == pytest.approx((1.0, 1.0))
    assert grid.pixel_spacing((64, 128), (253, 509), grid.FULL_WINDOW) == pytest.approx((0.25, 0.25))
    windows = torch.tensor([[-1.0, -1.0, 0.0, 0.0], [-1.0, -1.0, 1.0, 1.0]])  # per image (B, 4)
    dx, dy = grid.pixel_spacing((64, 128), (11, 11), windows.unbind(1))
    torch.testing.assert_close(dx, torch.tensor([127 / 20, 127 / 10]))


def test_label_positions_count_label_pixels_from_the_first_centre():
    positions = grid.label_positions(grid.coordinate_grid((4, 6)), (4, 6))  # (2, 4, 6)
    torch.testing.assert_close(positions[0, 0], torch.arange(6.0))
    torch.testing.assert_close(positions[1, :, 0], torch.arange(4.0))
    per_image = grid.label_positions(grid.coordinate_grid((4, 6))[None].expand(2, -1, -1, -1), (4, 6))
    assert torch.equal(per_image[1], positions)
    coarse, fine = torch.linspace(-1, 1, 64), torch.linspace(-1, 1, 253)
    assert all(grid.scaled_index(i, 64, 253) == int((fine - coarse[i]).abs().argmin()) for i in range(64))


def test_a_pixel_window_renders_the_pixels_of_the_full_grid():
    full = grid.coordinate_grid((40, 70), dtype=torch.float64)
    window = grid.pixel_window((40, 70), 5, 9, (8, 12))
    assert window == (full[0, 0, 9], full[1, 5, 0], full[0, 0, 20], full[1, 12, 0])  # its ends exactly
    torch.testing.assert_close(grid.coordinate_grid((8, 12), window, dtype=torch.float64), full[:, 5:13, 9:21])
    square = torch.tensor(grid.pixel_window((40, 70), 5, 9, (8, 8)), dtype=torch.float64)
    halo = grid.coordinate_grid((10, 10), grid.with_halo(square, 8), dtype=torch.float64)  # one pixel more each side
    torch.testing.assert_close(halo, full[:, 4:14, 8:18])


@pytest.mark.parametrize("k", [2, 3, 4])
def test_subpixels_average_onto_the_label_pixels(k):
    coords = grid.coordinate_grid((3 * k, 3 * k), grid.subpixel_window((32, 64), k, 2, 5, 3))  # (2, 3k, 3k)
    averaged = torch.nn.functional.avg_pool2d(coords[None], k)[0]  # (2, 3, 3)
    torch.testing.assert_close(averaged, grid.coordinate_grid((32, 64))[:, 2:5, 5:8])

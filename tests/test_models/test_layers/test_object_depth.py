"""The geometric object depth: z = f * s / h round trip, the sharp bin
distribution, the mixture the lift takes, and the head's losses against
values computed here."""
import math

import pytest
import torch

from cmkd_mmdet3d.models.layers import (ObjectDepthHead, gaussian_depth_bins,
                                        geometric_depth, mix_depth_logits,
                                        object_depth_targets)
from cmkd_mmdet3d.models.utils.depth_bins import DepthBins

BINS = DepthBins(mode='LID', depth_min=2.0, depth_max=46.8, num_bins=40)


def test_targets_give_the_depth_back_through_the_geometry():
    """A 30 px high box at 12 m seen with f = 360 px at stride 8:
    log(h / 8) = log(3.75), s = 12 * 30 / 360 = 1 m; geometric_depth of
    the targets is 12 m; cells without a box are not valid."""
    height = torch.tensor([[[30.0, 0.0]], [[15.0, 15.0]]])
    depth = torch.tensor([[[12.0, 0.0]], [[20.0, 0.0]]])
    focal = torch.tensor([360.0, 300.0])
    t = object_depth_targets(height, depth, focal, 8.0)
    assert t['valid'].tolist() == [[[True, False]], [[True, False]]]
    assert t['log_height'][0, 0, 0].item() == pytest.approx(math.log(3.75))
    assert t['log_size'][0, 0, 0].item() == pytest.approx(0.0, abs=1e-6)
    assert t['log_size'][1, 0, 0].item() == pytest.approx(math.log(1.0))
    z = geometric_depth(t['log_height'], t['log_size'], focal, 8.0)
    assert torch.allclose(z[t['valid']], torch.tensor([12.0, 20.0]))
    assert (t['log_height'][~t['valid']] == 0).all()


def test_gaussian_bins_peak_at_the_depths_bin_and_carry_its_gradient():
    depth = torch.tensor([[[3.0, 12.0], [25.0, 60.0]]], requires_grad=True)
    probs = gaussian_depth_bins(depth, BINS, sigma=0.5)
    assert probs.shape == (1, 41, 2, 2)
    assert torch.allclose(probs.sum(1), torch.ones(1, 2, 2))
    assert (probs[:, -1] == 0).all()
    # the peak is the depth's own bin (60 m is clamped to the last bin)
    expect = BINS.targets(depth.detach().clamp(max=46.79))
    assert probs.argmax(1).equal(expect)
    # by hand: weight of bin i is exp(-(i + 0.5 - t)^2 / 0.5), normalised
    t = BINS.index(torch.tensor(12.0)).item()
    w = [math.exp(-(i + 0.5 - t) ** 2 / 0.5) for i in range(40)]
    assert probs[0, :40, 0, 1].tolist() == pytest.approx(
        [x / sum(w) for x in w], abs=1e-6)
    (probs[0, :40, 0, 1] * torch.arange(40.0)).sum().backward()
    assert depth.grad[0, 0, 1] > 0 and depth.grad[0, 1, 1] == 0


def test_mixture_logits_softmax_to_the_mixture():
    torch.manual_seed(0)
    logits = torch.randn(2, 41, 3, 4)
    obj = gaussian_depth_bins(torch.full((2, 3, 4), 10.0), BINS)
    fg = torch.rand(2, 3, 4)
    mixed = mix_depth_logits(logits, fg, obj).softmax(1)
    expect = fg[:, None] * obj + (1 - fg[:, None]) * logits.softmax(1)
    assert torch.allclose(mixed, expect, atol=1e-6)
    assert torch.allclose(
        mix_depth_logits(logits, torch.zeros(2, 3, 4), obj).softmax(1),
        logits.softmax(1), atol=1e-6)


def test_head_starts_at_its_priors_and_its_losses_match_by_hand():
    head = ObjectDepthHead(in_channels=8, channels=4, size_prior=1.5,
                           height_prior=3.0, fg_prior=0.1)
    head.init_weights()
    out = head(torch.randn(2, 8, 5, 6))
    assert out['fg_logit'].sigmoid().sub(0.1).abs().max() < 1e-2
    assert out['log_height'].exp().sub(3.0).abs().max() < 0.05
    assert out['log_size'].exp().sub(1.5).abs().max() < 0.05
    mask = torch.zeros(2, 5, 6, dtype=torch.bool)
    mask[0, 1:3, 2:4] = True
    height = torch.where(mask, torch.full((2, 5, 6), 24.0),
                         torch.zeros(2, 5, 6))
    depth = torch.where(mask, torch.full((2, 5, 6), 18.0),
                        torch.zeros(2, 5, 6))
    focal = torch.tensor([360.0, 360.0])
    losses = head.loss(out, mask, height, depth, focal, 8.0)
    # by hand: targets log(24 / 8) and log(18 * 24 / 360) on the 4 cells
    m = mask
    assert losses['loss_obj_height'].item() == pytest.approx(
        (out['log_height'][m] - math.log(3.0)).abs().mean().item(), rel=1e-5)
    assert losses['loss_obj_size'].item() == pytest.approx(
        (out['log_size'][m] - math.log(1.2)).abs().mean().item(), rel=1e-5)
    p = out['fg_logit'].sigmoid()
    bce = -(mask * p.log() + (~mask) * (1 - p).log()).mean()
    assert losses['loss_obj_fg'].item() == pytest.approx(bce.item(),
                                                         rel=1e-5)
    # no object cells: the regressions are 0, not NaN
    none = head.loss(out, torch.zeros_like(mask), height * 0, depth * 0,
                     focal, 8.0)
    assert none['loss_obj_height'].item() == 0
    assert none['loss_obj_size'].item() == 0


@pytest.mark.parametrize('key, value', [('sigma', 0.0), ('size_prior', -1.0),
                                        ('height_prior', 0.0),
                                        ('fg_prior', 1.0)])
def test_head_refuses_bad_settings(key, value):
    with pytest.raises(ValueError, match=key):
        ObjectDepthHead(in_channels=8, **{key: value})

"""DepthFocalLoss(one_hot_eps): kornia's one_hot eps of the reference's
depth loss, checked analytically."""
import math

import pytest
import torch


def test_depth_focal_loss_by_hand():
    from cmkd_mmdet3d.models.losses import DepthFocalLoss
    logits = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]]).t()
    logits = logits.reshape(1, 3, 1, 2)                 # 2 pixels, 3 classes
    target = torch.tensor([[[0, 2]]])
    losses = []
    for pix, k in ((0, 0), (1, 2)):
        z = logits[0, :, 0, pix].tolist()
        p = math.exp(z[k]) / sum(math.exp(v) for v in z)
        losses.append(-0.25 * (1 - p)**2 * math.log(p))
    loss = DepthFocalLoss(loss_weight=0.5)(logits, target)
    assert loss.item() == pytest.approx(0.5 * sum(losses) / 2, rel=1e-6)
    # a confident correct prediction costs (almost) nothing
    sure = torch.full((1, 3, 1, 1), -20.0)
    sure[0, 1] = 20.0
    assert DepthFocalLoss()(sure, torch.tensor([[[1]]])).item() < 1e-12
    with pytest.raises(ValueError, match='target'):
        DepthFocalLoss()(logits, target[0])


def _kornia_style(logits, target, alpha, gamma, eps):
    """sum_k (onehot_k + eps) * (-alpha (1 - p_k)^gamma log p_k), written
    out per pixel and class in float64."""
    b, k, h, w = logits.shape
    out = torch.zeros(b, h, w, dtype=torch.float64)
    for i in range(b):
        for y in range(h):
            for x in range(w):
                z = [float(v) for v in logits[i, :, y, x]]
                m = max(z)
                lse = m + math.log(sum(math.exp(v - m) for v in z))
                for c in range(k):
                    logp = z[c] - lse
                    q = (1.0 if c == int(target[i, y, x]) else 0.0) + eps
                    out[i, y, x] += q * -alpha * (
                        1 - math.exp(logp))**gamma * logp
    return out


def test_one_hot_eps_matches_kornia_formula_and_its_difference():
    from cmkd_mmdet3d.models.losses import DepthFocalLoss
    from cmkd_mmdet3d.models.losses.depth_focal_loss import depth_focal_loss
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(2, 7, 3, 4, generator=g) * 3).double()
    target = torch.randint(0, 7, (2, 3, 4), generator=g)
    for eps in (0.0, 1e-6, 0.05):
        ours = depth_focal_loss(logits, target, 0.25, 2.0, eps)
        ref = _kornia_style(logits, target, 0.25, 2.0, eps)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-15)
    # the difference is eps * sum_k focal_k, linear in eps
    base = depth_focal_loss(logits, target, 0.25, 2.0, 0.0)
    p = logits.softmax(1)
    all_classes = (-0.25 * (1 - p)**2 * p.log()).sum(1)
    diff = depth_focal_loss(logits, target, 0.25, 2.0, 1e-6) - base
    torch.testing.assert_close(diff, 1e-6 * all_classes, rtol=1e-6,
                               atol=1e-18)
    # the module: weighted mean, same difference
    m0 = DepthFocalLoss(loss_weight=0.5)(logits, target)
    m1 = DepthFocalLoss(loss_weight=0.5, one_hot_eps=1e-6)(logits, target)
    assert float(m1 - m0) == pytest.approx(
        0.5 * 1e-6 * float(all_classes.mean()), rel=1e-6)


def test_one_hot_eps_penalises_a_confident_prediction():
    """A perfect pixel costs 0 without eps; with it, eps * alpha * sum over
    the other classes of |log p_k| (their (1 - p_k)^gamma is ~1)."""
    from cmkd_mmdet3d.models.losses import DepthFocalLoss
    sure = torch.full((1, 121, 1, 1), -20.0, dtype=torch.float64)
    sure[0, 3] = 20.0
    tgt = torch.tensor([[[3]]])
    assert float(DepthFocalLoss()(sure, tgt)) < 1e-12
    with_eps = float(DepthFocalLoss(one_hot_eps=1e-6)(sure, tgt))
    log_p_other = -40.0 - math.log(1 + 120 * math.exp(-40.0))
    assert with_eps == pytest.approx(1e-6 * 0.25 * 120 * -log_p_other,
                                     rel=1e-9)


def test_foreground_weights_are_cadnn_balancer():
    """fg_weight / bg_weight: CaDDN's balancer, (13 * sum of the foreground
    pixels' losses + 1 * sum of the rest) / number of pixels; equal weights
    need no mask, unequal ones refuse to run without it."""
    from cmkd_mmdet3d.models.losses import DepthFocalLoss
    from cmkd_mmdet3d.models.losses.depth_focal_loss import depth_focal_loss
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3, 4)
    target = torch.randint(0, 5, (2, 3, 4))
    fg = torch.zeros(2, 3, 4, dtype=torch.bool)
    fg[0, 1, 1:3] = True
    fg[1, 0, 0] = True
    per_pixel = depth_focal_loss(logits, target)
    expect = (13 * per_pixel[fg].sum() + per_pixel[~fg].sum()) / fg.numel()
    loss = DepthFocalLoss(fg_weight=13, bg_weight=1, loss_weight=0.5)
    assert loss.needs_foreground
    assert loss(logits, target, fg_mask=fg).item() == pytest.approx(
        0.5 * expect.item(), rel=1e-6)
    with pytest.raises(ValueError, match='foreground mask of shape'):
        loss(logits, target)
    plain = DepthFocalLoss()
    assert not plain.needs_foreground
    assert plain(logits, target, fg_mask=fg).item() == pytest.approx(
        per_pixel.mean().item(), rel=1e-6)

"""Distillation losses against values computed by hand (plain Python loops)
on small tensors; zero when the student equals the teacher."""
import math

import pytest
import torch

from cmkd_mmdet3d.models.losses import (BEVFeatureDistillLoss,
                                        SoftBoxRegressionLoss,
                                        SoftCenterRegressionLoss,
                                        SoftDirectionLoss, SoftHeatmapLoss,
                                        SoftQualityFocalLoss,
                                        teacher_confidence_weights)


def sig(x):
    return 1 / (1 + math.exp(-x))


def bce_logit(z, t):
    p = sig(z)
    return -(t * math.log(p) + (1 - t) * math.log(1 - p))


def smooth_l1(x, beta):
    x = abs(x)
    return 0.5 * x * x / beta if x < beta else x - 0.5 * beta


def test_bev_loss_by_hand_and_masks():
    s = torch.tensor([[[[1.0, 2.0]], [[0.0, 1.0]]]])        # (1, 2, 1, 2)
    t = torch.tensor([[[[0.0, 2.0]], [[0.0, 0.0]]]])
    # mean of (1, 0, 0, 1) = 0.5
    assert BEVFeatureDistillLoss(32)(s, t).item() == pytest.approx(16.0)
    # nonzero mask: cell 0 has teacher sum 0 -> weight 0.05, cell 1 -> 1
    # sum M d^2 = 0.05 * (1 + 0) + 1 * (0 + 1); sum M = 2 * (0.05 + 1)
    nz = BEVFeatureDistillLoss(1.0, mask='nonzero')(s, t).item()
    assert nz == pytest.approx(1.05 / 2.1)
    fg = torch.tensor([[[[1.0, 0.0]]]])
    assert BEVFeatureDistillLoss(1.0)(s, t, fg).item() == pytest.approx(0.5)
    assert BEVFeatureDistillLoss()(t, t).item() == 0
    # batch-size invariant: duplicating a sample changes nothing
    two = BEVFeatureDistillLoss(32)(s.repeat(2, 1, 1, 1), t.repeat(2, 1, 1, 1))
    assert two.item() == pytest.approx(16.0)
    with pytest.raises(ValueError, match='student .* teacher'):
        BEVFeatureDistillLoss()(s, t[:, :1])


def test_soft_qfl_by_hand():
    zs = torch.tensor([[[0.5, -1.0], [2.0, 0.0], [-3.0, 1.0]]])  # (1, 3, 2)
    zt = torch.tensor([[[1.0, -4.0], [-4.0, -2.0], [0.0, 3.0]]])
    loss = SoftQualityFocalLoss(loss_weight=2.0)(zs, zt).item()
    total = 0.0
    for k in range(2):
        ts = [sig(zt[0, n, k].item()) for n in range(3)]
        norm = max(sum(t > 0.1 for t in ts), 1)
        for n in range(3):
            z, t = zs[0, n, k].item(), ts[n]
            total += bce_logit(z, t) * (sig(z) - t)**2 / norm
    assert loss == pytest.approx(2.0 * total, rel=1e-5)
    # averaged over the batch, not summed
    qfl = SoftQualityFocalLoss(loss_weight=2.0)
    two = qfl(zs.repeat(2, 1, 1), zt.repeat(2, 1, 1))
    assert two.item() == pytest.approx(loss, rel=1e-6)
    # student == teacher: only the BCE's entropy floor is left, and the
    # modulating factor |p - t|^2 removes it
    assert SoftQualityFocalLoss()(zt, zt).item() == pytest.approx(0, abs=1e-9)


def test_box_and_direction_losses_by_hand():
    zt = torch.tensor([[[2.0, -5.0, -5.0], [-5.0, -5.0, -5.0],
                        [0.0, -1.0, -5.0]]])                   # (1, 3, 3)
    w = teacher_confidence_weights(zt)
    s = [sum(sig(v) for v in row) for row in zt[0].tolist()]
    pos = [x > 0.1 for x in s]
    npos = sum(pos)
    assert pos == [True, False, True]
    assert w[0].tolist() == pytest.approx(
        [p * x / npos for p, x in zip(pos, s)], rel=1e-6)

    g = torch.Generator().manual_seed(0)
    bs = torch.randn(1, 3, 7, generator=g)
    bt = torch.randn(1, 3, 7, generator=g)
    loss = SoftBoxRegressionLoss(loss_weight=2.0)(bs, bt, w).item()
    total = 0.0
    for n in range(3):
        for k in range(7):
            a, b = bs[0, n, k].item(), bt[0, n, k].item()
            if k == 6:     # sin-difference on the angle
                a, b = math.sin(a) * math.cos(b), math.cos(a) * math.sin(b)
            total += w[0, n].item() * smooth_l1(a - b, 1 / 9)
    assert loss == pytest.approx(2.0 * total, rel=1e-5)
    assert SoftBoxRegressionLoss()(bt, bt, w).item() == 0
    # an angle off by pi costs nothing (direction is the dir head's job)
    flipped = bt.clone()
    flipped[..., 6] += math.pi
    assert SoftBoxRegressionLoss()(flipped, bt, w).item() < 1e-6

    ds = torch.randn(1, 3, 2, generator=g)
    dt = torch.tensor([[[0.2, 0.1], [0.0, 3.0], [-1.0, 1.0]]])
    loss = SoftDirectionLoss(loss_weight=0.4)(ds, dt, w).item()
    total = 0.0
    for n in range(3):
        label = 0 if dt[0, n, 0] > dt[0, n, 1] else 1
        a, b = ds[0, n].tolist()
        lse = math.log(math.exp(a) + math.exp(b))
        total += w[0, n].item() * (lse - (a, b)[label])
    assert loss == pytest.approx(0.4 * total, rel=1e-5)


def test_center_head_losses_by_hand():
    zt = torch.tensor([[[[1.0, -3.0]], [[-2.0, -6.0]]]])   # (1, 2, 1, 2)
    zs = torch.tensor([[[[0.0, -1.0]], [[-1.0, -5.0]]]])
    loss = SoftHeatmapLoss()(zs, zt).item()
    total, npos = 0.0, 0
    for c in range(2):
        for x in range(2):
            p = min(max(sig(zs[0, c, 0, x].item()), 1e-4), 1 - 1e-4)
            t = sig(zt[0, c, 0, x].item())
            npos += t > 0.3
            total += -(t * math.log(p) + (1 - t) * math.log(1 - p)) * \
                (p - t)**2
    assert loss == pytest.approx(total / max(npos, 1), rel=1e-5)

    g = torch.Generator().manual_seed(1)
    ys = torch.randn(1, 8, 1, 2, generator=g)
    yt = torch.randn(1, 8, 1, 2, generator=g)
    loss = SoftCenterRegressionLoss()(ys, yt, zt).item()
    total, count = 0.0, 0
    for x in range(2):
        s = sig(zt[0, 0, 0, x].item()) + sig(zt[0, 1, 0, x].item())
        if s > 0.1:
            for k in range(8):
                total += smooth_l1(ys[0, k, 0, x].item() -
                                   yt[0, k, 0, x].item(), 1.0) * s
                count += 1
    # the reference's 4 * mean(SmoothL1 * s * 8)
    assert loss == pytest.approx(4 * 8 * total / count, rel=1e-5)
    assert SoftCenterRegressionLoss()(yt, yt, zt).item() == 0


def test_bev_box_mask_by_hand():
    from cmkd_mmdet3d.models.losses import bev_box_mask
    # grid x in [0, 4), y in [0, 3), 1 m cells with centres at .5
    pcr, cell = [0, 0, -3, 4, 3, 1], (1.0, 1.0)
    box = torch.tensor([[1.5, 1.5, 0.0, 2.2, 0.8, 1.0, 0.0]])
    # |x - 1.5| <= 1.1 and |y - 1.5| <= 0.4: row 1, columns 0..2
    expected = torch.zeros(3, 4, dtype=torch.bool)
    expected[1, 0:3] = True
    assert torch.equal(bev_box_mask(box, pcr, cell, (3, 4)), expected)
    # heading along +y: |x - 1.5| <= 0.4 and |y - 1.5| <= 1.1: column 1
    box[0, 6] = math.pi / 2
    expected = torch.zeros(3, 4, dtype=torch.bool)
    expected[0:3, 1] = True
    assert torch.equal(bev_box_mask(box, pcr, cell, (3, 4)), expected)
    assert not bev_box_mask(box[:0], pcr, cell, (3, 4)).any()


def test_cmkd_mv_center_head_losses_by_hand():
    """CMKD-MV's forms (Cc-Hy/CMKD-MV, bevdet.py): the batch-wide
    normaliser of teacher probabilities >= 0.5 (here > 0.5), the quirk of
    the modulating factor on logits, and the box loss over every cell
    weighted by sigmoid(sum of logits) or sum of sigmoids."""
    g = torch.Generator().manual_seed(4)
    zs = torch.randn(2, 2, 2, 3, generator=g) * 2
    zt = torch.randn(2, 2, 2, 3, generator=g) * 2
    flat = [(b, c, y, x) for b in range(2) for c in range(2)
            for y in range(2) for x in range(3)]
    npos = sum(sig(zt[i].item()) > 0.5 for i in flat)
    assert 0 < npos < len(flat)
    qfl = sum(bce_logit(zs[i].item(), sig(zt[i].item())) *
              abs(sig(zs[i].item()) - sig(zt[i].item()))**2 for i in flat)
    quirk = sum(bce_logit(zs[i].item(), sig(zt[i].item())) *
                abs(zs[i].item() - sig(zt[i].item()))**2 for i in flat)
    fixed = SoftHeatmapLoss(pos_thr=0.5, normalizer='batch',
                            loss_weight=0.2)(zs, zt).item()
    assert fixed == pytest.approx(0.2 * qfl / npos, rel=1e-4)
    kept = SoftHeatmapLoss(pos_thr=0.5, normalizer='batch', loss_weight=0.2,
                           modulate_on_logits=True)(zs, zt).item()
    assert kept == pytest.approx(0.2 * quirk / npos, rel=1e-5)
    assert kept != pytest.approx(fixed, rel=0.1)
    with pytest.raises(ValueError, match='normalizer'):
        SoftHeatmapLoss(normalizer='gpu')

    ys = torch.randn(2, 2, 2, 3, generator=g)
    yt = torch.randn(2, 2, 2, 3, generator=g)
    for mode in ('sum_of_sigmoids', 'sigmoid_of_sum'):
        total = 0.0
        for b, k, y, x in flat:
            z = [zt[b, c, y, x].item() for c in range(2)]
            w = sig(sum(z)) if mode == 'sigmoid_of_sum' else \
                sum(sig(v) for v in z)
            total += smooth_l1(ys[b, k, y, x].item() -
                               yt[b, k, y, x].item(), 1.0) * w
        loss = SoftCenterRegressionLoss(pos_thr=None, loss_weight=50.0,
                                        teacher_weight=mode)(ys, yt, zt)
        assert loss.item() == pytest.approx(50 * total / len(flat),
                                            rel=1e-5), mode
    with pytest.raises(ValueError, match='teacher_weight'):
        SoftCenterRegressionLoss(teacher_weight='max')

"""PointPillarsScatterConv: the KITTI PointPillars teacher reaches the
student grid."""
import torch
from _helpers.models import KITTI, build


def test_pointpillars_scatter_conv_reaches_the_student_grid():
    """CMKD's KITTI PointPillars teacher: 0.16 m pillars, and a stride-2 stem
    that gives 128 channels on the 0.32 m grid."""
    cfg, model = build(KITTI[0])
    enc = model.middle_encoder
    feats = torch.randn(5, 128)
    coors = torch.tensor([[0, 0, 10, 20], [0, 0, 0, 0], [1, 0, 495, 431],
                          [1, 0, 3, 4], [1, 0, 3, 5]])
    out = enc(feats, coors, 2)
    assert tuple(out.shape) == (2, 128, 248, 216)
    # with the stem removed, the scatter puts each pillar at (y, x)
    canvas = super(type(enc), enc).forward(feats, coors, 2)
    assert torch.equal(canvas[1, :, 495, 431], feats[2])
    assert canvas[0].abs().sum(0).nonzero().tolist() == [[0, 0], [10, 20]]

"""SCBottleneck (SCNet self-calibrated convolution block)."""
import torch


def test_sc_bottleneck_shape_and_residual():
    from cmkd_mmdet3d.models.layers import SCBottleneck
    block = SCBottleneck(16).eval()
    x = torch.randn(2, 16, 20, 28)
    y = block(x)
    assert y.shape == x.shape and (y >= 0).all()
    # zeroing the last BN makes the block ReLU(identity)
    torch.nn.init.zeros_(block.conv3[1].weight)
    assert torch.allclose(block(x), x.relu())

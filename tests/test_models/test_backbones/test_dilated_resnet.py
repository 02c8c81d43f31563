"""DilatedResNet follows torchvision's dilation pattern."""
import torch
from _helpers.models import _registry


def test_dilated_resnet_follows_torchvision_dilation():
    """torchvision's ResNet(replace_stride_with_dilation=[F, T, T]): block 0
    of a dilated stage keeps the previous dilation (listed from the module
    attributes)."""
    MODELS = _registry()
    cfg = dict(depth=50, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
               out_indices=(2, 3))
    tv = MODELS.build(dict(type='DilatedResNet', **cfg))
    mm = MODELS.build(dict(type='DilatedResNet', torchvision_dilation=False,
                           **cfg))
    plain = MODELS.build(dict(type='mmdet.ResNet', **cfg))

    def pattern(net):
        return {n: [(b.conv2.dilation[0], b.conv2.padding[0],
                     b.conv2.stride[0]) for b in getattr(net, n)]
                for n in ('layer1', 'layer2', 'layer3', 'layer4')}

    assert pattern(tv) == {
        'layer1': [(1, 1, 1)] * 3,
        'layer2': [(1, 1, 2)] + [(1, 1, 1)] * 3,
        'layer3': [(1, 1, 1)] + [(2, 2, 1)] * 5,
        'layer4': [(2, 2, 1)] + [(4, 4, 1)] * 2}
    assert pattern(mm) == pattern(plain) == {
        'layer1': [(1, 1, 1)] * 3,
        'layer2': [(1, 1, 2)] + [(1, 1, 1)] * 3,
        'layer3': [(2, 2, 1)] * 6,
        'layer4': [(4, 4, 1)] * 3}
    # same parameters, names and stride-8 outputs either way
    assert {k: v.shape for k, v in tv.state_dict().items()} == \
        {k: v.shape for k, v in plain.state_dict().items()}
    tv.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 40, 56)
    tv.eval()                  # mmdet's ResNet.train() returns None
    plain.eval()
    outs = tv(x)
    assert [o.shape for o in outs] == [(1, 1024, 5, 7), (1, 2048, 5, 7)]
    assert not torch.allclose(outs[1], plain(x)[1])

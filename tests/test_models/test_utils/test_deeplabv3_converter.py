"""The depth network as the reference builds it: torchvision's dilation
pattern and the DeepLabV3 COCO checkpoint (Cc-Hy/CMKD:pcdet/models/
backbones_3d/vfe/image_vfe_modules/ffn/ddn/ddn_template.py). Nothing is
downloaded: the torchvision state dicts are synthesised from the key / shape
table below."""
import glob
import os

import pytest
import torch
from _helpers.models import _registry
from conftest import REPO_ROOT
from _helpers.tools import load_tool


def _bn(prefix, c):
    return {f'{prefix}.weight': (c, ), f'{prefix}.bias': (c, ),
            f'{prefix}.running_mean': (c, ), f'{prefix}.running_var': (c, ),
            f'{prefix}.num_batches_tracked': ()}


def torchvision_deeplabv3_shapes(depth=50, num_classes=21, aspp=256,
                                 rates=3, aux=True):
    """Key -> shape of torchvision's ``deeplabv3_resnet50(num_classes=21,
    aux_loss=True)`` (the COCO checkpoint's layout), written from
    torchvision's ``ResNet`` / ``DeepLabHead`` / ``FCNHead`` definitions.
    ``depth=18`` gives the same layout with BasicBlocks (a small stand-in
    torchvision does not ship)."""
    blocks, expansion = {18: ([2, 2, 2, 2], 1), 50: ([3, 4, 6, 3], 4)}[depth]
    strides = [1, 2, 1, 1]            # replace_stride_with_dilation=[F, T, T]
    s = {'backbone.conv1.weight': (64, 3, 7, 7), **_bn('backbone.bn1', 64)}
    inplanes = 64
    for i, n in enumerate(blocks):
        planes = 64 * 2**i
        for b in range(n):
            p = f'backbone.layer{i + 1}.{b}'
            if expansion == 4:
                s[f'{p}.conv1.weight'] = (planes, inplanes, 1, 1)
                s[f'{p}.conv2.weight'] = (planes, planes, 3, 3)
                s[f'{p}.conv3.weight'] = (planes * 4, planes, 1, 1)
                s.update(_bn(f'{p}.bn1', planes), **_bn(f'{p}.bn2', planes),
                         **_bn(f'{p}.bn3', planes * 4))
            else:
                s[f'{p}.conv1.weight'] = (planes, inplanes, 3, 3)
                s[f'{p}.conv2.weight'] = (planes, planes, 3, 3)
                s.update(_bn(f'{p}.bn1', planes), **_bn(f'{p}.bn2', planes))
            if b == 0 and (strides[i] != 1 or
                           inplanes != planes * expansion):
                s[f'{p}.downsample.0.weight'] = (planes * expansion,
                                                 inplanes, 1, 1)
                s.update(_bn(f'{p}.downsample.1', planes * expansion))
            inplanes = planes * expansion
    c4, c3 = inplanes, inplanes // 2
    for i in range(rates + 1):           # 1x1 and atrous: (conv, bn, relu)
        s[f'classifier.0.convs.{i}.0.weight'] = \
            (aspp, c4, 1, 1) if i == 0 else (aspp, c4, 3, 3)
        s.update(_bn(f'classifier.0.convs.{i}.1', aspp))
    pool = f'classifier.0.convs.{rates + 1}'          # (pool, conv, bn, relu)
    s[f'{pool}.1.weight'] = (aspp, c4, 1, 1)
    s.update(_bn(f'{pool}.2', aspp))
    s['classifier.0.project.0.weight'] = (aspp, aspp * (rates + 2), 1, 1)
    s.update(_bn('classifier.0.project.1', aspp))
    s['classifier.1.weight'] = (aspp, aspp, 3, 3)
    s.update(_bn('classifier.2', aspp))
    s['classifier.4.weight'] = (num_classes, aspp, 1, 1)
    s['classifier.4.bias'] = (num_classes, )
    if aux:                                        # FCNHead(1024, 21)
        s['aux_classifier.0.weight'] = (256, c3, 3, 3)
        s.update(_bn('aux_classifier.1', 256))
        s['aux_classifier.4.weight'] = (num_classes, 256, 1, 1)
        s['aux_classifier.4.bias'] = (num_classes, )
    return s


def synthesise(shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.tensor(7) if k.endswith('num_batches_tracked') else
                torch.rand(v, generator=g) + 0.5 if k.endswith('running_var')
                else torch.randn(v, generator=g) * 0.1)
            for k, v in shapes.items()}


def _net(depth=50, num_bins=120, aspp=256, dilations=(12, 24, 36), **bb):
    small = depth == 18
    return _registry().build(dict(
        type='DepthDistributionNet',
        backbone=dict(type='DilatedResNet', depth=depth,
                      strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                      out_indices=(2, 3), **bb),
        num_bins=num_bins, feat_in_channels=256 if small else 1024,
        deep_in_channels=512 if small else 2048, feat_channels=8,
        aspp_channels=aspp, aspp_dilations=dilations))


def test_convert_keys_and_drop_only_the_last_conv():
    from cmkd_mmdet3d.models.utils.deeplabv3_converter import (
        convert_deeplabv3_key, convert_deeplabv3_state_dict)
    assert convert_deeplabv3_key('classifier.0.convs.3.1.running_var') == \
        'aspp.branches.3.bn.running_var'
    assert convert_deeplabv3_key('classifier.0.convs.4.1.weight') == \
        'aspp.image_pool.1.conv.weight'
    assert convert_deeplabv3_key('classifier.0.project.1.bias') == \
        'aspp.project.0.bn.bias'
    assert convert_deeplabv3_key('classifier.1.weight') == \
        'depth_head.0.conv.weight'
    assert convert_deeplabv3_key('backbone.layer4.2.bn3.weight') == \
        'backbone.layer4.2.bn3.weight'
    assert convert_deeplabv3_key('aux_classifier.4.bias') is None
    state = synthesise(torchvision_deeplabv3_shapes())
    out, dropped = convert_deeplabv3_state_dict(state, num_classes=121)
    assert sorted(dropped) == sorted(
        [k for k in state if k.startswith('aux_classifier.')] +
        ['classifier.4.weight', 'classifier.4.bias'])
    assert len(out) == len(state) - len(dropped)
    assert all(out[convert_deeplabv3_key(k)] is v for k, v in state.items()
               if k not in dropped)
    # the reference keeps the last conv when the class count matches
    out21, dropped21 = convert_deeplabv3_state_dict(state, num_classes=21)
    assert out21['depth_head.1.bias'] is state['classifier.4.bias']
    assert not any(k.startswith('classifier.') for k in dropped21)
    with pytest.raises(ValueError, match=r"coco\.pth.*'classifier\.5\.w"):
        convert_deeplabv3_state_dict(
            dict(state, **{'classifier.5.weight': torch.zeros(1)}),
            source='coco.pth')
    with pytest.raises(ValueError, match='not a torchvision DeepLabV3'):
        convert_deeplabv3_state_dict({'conv1.weight': torch.zeros(1)})


def test_deeplabv3_r50_loads_strictly_except_the_last_conv():
    """Every tensor of the synthesised COCO-layout checkpoint has a home in
    the R50 depth network (120 bins); only depth_head.1 and the channel
    reduction keep their initialisation."""
    net = _net()
    state = synthesise(torchvision_deeplabv3_shapes())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    dropped = net.load_deeplabv3_state_dict(state, source='coco.pth')
    assert len(dropped) == 10          # aux_classifier (8) + classifier.4
    from cmkd_mmdet3d.models.utils.deeplabv3_converter import \
        convert_deeplabv3_key
    after = net.state_dict()
    loaded = set()
    for k, v in state.items():
        if k in dropped:
            continue
        ours = convert_deeplabv3_key(k)
        assert torch.equal(after[ours], v), k
        loaded.add(ours)
    untouched = sorted(set(after) - loaded)
    assert untouched == sorted(
        ['depth_head.1.weight', 'depth_head.1.bias'] +
        [k for k in after if k.startswith('reduce.')])
    for k in untouched:
        assert torch.equal(after[k], before[k]), k

    # anything else than the last conv missing / extra / misshapen: error
    # naming the file and the keys
    short = {k: v for k, v in state.items()
             if k != 'classifier.0.project.0.weight'}
    with pytest.raises(ValueError,
                       match=r"coco\.pth.*missing \['aspp\.project\.0\.conv"):
        net.load_deeplabv3_state_dict(short, source='coco.pth')
    with pytest.raises(ValueError, match=r"coco\.pth.*shapes differ.*"
                       r"aspp\.branches\.0\.conv\.weight"):
        _net(aspp=128).load_deeplabv3_state_dict(state, source='coco.pth')
    with pytest.raises(ValueError, match=r"coco\.pth.*unexpected "
                       r"\['aspp\.branches\.3\."):
        _net(dilations=(12, 24)).load_deeplabv3_state_dict(
            state, source='coco.pth')


def test_init_weights_converts_a_checkpoint_file_and_the_cli(tmp_path):
    """The backbone's Pretrained init_cfg may name a torchvision DeepLabV3
    file (converted on the fly), the CLI's output, or an ImageNet ResNet
    (backbone only, through mmengine). ResNet-18 stand-in to stay small."""
    shapes = torchvision_deeplabv3_shapes(depth=18, aspp=16)
    state = synthesise(shapes, seed=1)
    tv_file = str(tmp_path / 'deeplabv3_r18_coco.pth')
    torch.save(state, tv_file)

    def check(net):
        got = net.state_dict()
        assert torch.equal(got['aspp.image_pool.1.bn.running_mean'],
                           state['classifier.0.convs.4.2.running_mean'])
        assert torch.equal(got['depth_head.0.conv.weight'],
                           state['classifier.1.weight'])
        assert torch.equal(got['backbone.layer3.0.conv1.weight'],
                           state['backbone.layer3.0.conv1.weight'])

    bb = dict(init_cfg=dict(type='Pretrained', checkpoint=tv_file))
    net = _net(depth=18, aspp=16, num_bins=10, **bb)
    net.init_weights()
    check(net)

    cli = load_tool('model_converters', 'deeplabv3_to_cmkd.py')
    out = str(tmp_path / 'out' / 'ddn.pth')
    cli.main([tv_file, out])
    assert os.listdir(tmp_path / 'out') == ['ddn.pth']     # atomic, no tmp
    written = torch.load(out, weights_only=True)
    assert not any(k.startswith(('classifier', 'aux_', 'depth_head.1.'))
                   for k in written['state_dict'])
    assert written['meta']['dropped'][-2:] == ['aux_classifier.4.weight',
                                               'aux_classifier.4.bias']
    net = _net(depth=18, aspp=16, num_bins=10,
               init_cfg=dict(type='Pretrained', checkpoint=out))
    net.init_weights()
    check(net)
    with pytest.raises(SystemExit, match='not found'):
        cli.main([str(tmp_path / 'nope.pth'), out])

    # an ImageNet ResNet (torchvision resnet names, no prefix): backbone only
    imagenet = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    in_file = str(tmp_path / 'resnet18.pth')
    torch.save(imagenet, in_file)
    net = _net(depth=18, aspp=16, num_bins=10,
               init_cfg=dict(type='Pretrained', checkpoint=in_file))
    net.init_weights()
    assert torch.equal(net.backbone.layer3[0].conv1.weight,
                       imagenet['layer3.0.conv1.weight'])
    assert not torch.equal(net.depth_head[0].conv.weight,
                           state['classifier.1.weight'])


def test_kitti_configs_use_the_deeplabv3_checkpoint_by_url():
    """The reference's init without torchvision: https URLs, no
    torchvision:// (which mmengine resolves by importing torchvision)."""
    from mmengine.config import Config
    texts = {p: open(p).read() for p in glob.glob(
        os.path.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)}
    assert not [p for p, t in texts.items() if 'torchvision://' in t]
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'cmkd_mono3d',
        'cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_kitti-3d-'
        '3class.py'))
    bb = cfg.model.img_backbone.backbone
    assert bb.type == 'DilatedResNet' and bb.torchvision_dilation
    assert bb.init_cfg.checkpoint == ('https://download.pytorch.org/models/'
                                      'deeplabv3_resnet50_coco-cd0a2569.pth')
    assert cfg.model.img_backbone.aspp_channels == 256
    assert tuple(cfg.model.img_backbone.aspp_dilations) == (12, 24, 36)
    syn = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'cmkd_mono3d',
        'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_synkitti-'
        '3d-3class.py')).model.img_backbone.backbone
    assert syn.init_cfg is None


def test_outputs_match_torchvision_deeplabv3():
    """Same outputs as torchvision's deeplabv3_resnet50 (random weights and
    BN statistics) after conversion; skipped without torchvision (the
    plugin's environment has none: see
    tools/analysis_tools/check_deeplabv3_conversion.py for the two-env
    check)."""
    pytest.importorskip('torchvision')
    mod = load_tool('analysis_tools', 'check_deeplabv3_conversion.py')
    ref = mod.torchvision_reference(dtype=torch.float64)
    res = mod.compare(ref)
    for name, (abs_err, _) in res['torchvision_dilation'].items():
        assert abs_err < 1e-9, (name, abs_err)

"""Check that ``DepthDistributionNet`` with a converted DeepLabV3 state dict
computes what torchvision's ``deeplabv3_resnet50`` computes (the reference's
depth network, Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/image_vfe_modules/
ffn/ddn/ddn_template.py: backbone ``layer3`` -> "features", ``layer4`` ->
``classifier``, bilinear resize to the layer3 size).

torchvision does not import beside the plugin's torch, so the check runs in
two environments that share a file:

    # 1. any env with torch + torchvision (no mmcv / mmdet needed)
    python tools/analysis_tools/check_deeplabv3_conversion.py dump ref.pth
    # 2. the plugin's env (PYTHONPATH=. to test the working tree rather
    #    than the installed plugin)
    python tools/analysis_tools/check_deeplabv3_conversion.py compare ref.pth

``dump`` builds ``deeplabv3_resnet50(weights=None, weights_backbone=None,
num_classes=121, aux_loss=False)`` with random weights and random BN
statistics, runs it in eval mode on a random image in float32 and float64
and saves the state dict, the image and the outputs. ``compare`` converts
the state dict (the last conv kept: same class count), runs our network
with torchvision's dilation pattern and with mmdet's, and prints the max
absolute and relative differences of layer3, layer4, the head before the
last conv and the logits ("rel": max abs difference / max abs torchvision
value). In an env with both (``both``) it does the two in-process.
"""
import argparse
import os.path as osp
import sys

import torch

NUM_BINS = 120
OUTPUTS = ('layer3', 'layer4', 'head_pre_last_conv', 'logits')


def torchvision_reference(seed: int = 0, size=(2, 3, 96, 160),
                          dtype=torch.float32) -> dict:
    """Random torchvision DeepLabV3-R50 and its outputs on a random image.

    Args:
        seed (int): RNG seed of weights, BN statistics and image.
        size (tuple): Image shape (B, 3, H, W).
        dtype (torch.dtype): Precision of the forward pass.

    Returns:
        dict: ``state_dict`` (float32, torchvision names), ``image``
        (B, 3, H, W) and ``outputs`` name -> tensor: ``layer3``
        (B, 1024, H/8, W/8), ``layer4`` (B, 2048, H/8, W/8),
        ``head_pre_last_conv`` (B, 256, H/8, W/8) and ``logits``
        (B, 121, H/8, W/8), plus ``versions``.
    """
    import torch.nn.functional as F
    import torchvision
    from torchvision.models.segmentation import deeplabv3_resnet50
    torch.manual_seed(seed)
    model = deeplabv3_resnet50(weights=None, weights_backbone=None,
                               num_classes=NUM_BINS + 1, aux_loss=False)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    image = torch.randn(size, generator=g)
    model = model.to(dtype).eval()
    model.backbone.return_layers = {'layer3': 'features', 'layer4': 'out'}
    with torch.no_grad():
        feats = model.backbone(image.to(dtype))
        pre = feats['out']
        for i in range(4):         # ASPP, 3x3 conv, BN, ReLU
            pre = model.classifier[i](pre)
        logits = model.classifier[4](pre)
        logits = F.interpolate(logits, size=feats['features'].shape[-2:],
                               mode='bilinear', align_corners=False)
    return dict(state_dict=state, image=image, dtype=str(dtype),
                outputs=dict(layer3=feats['features'], layer4=feats['out'],
                             head_pre_last_conv=pre, logits=logits),
                versions=dict(torch=str(torch.__version__),
                              torchvision=str(torchvision.__version__)))


def _ours(torchvision_dilation: bool):
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS.build(dict(
        type='DepthDistributionNet',
        backbone=dict(type='DilatedResNet', depth=50, strides=(1, 2, 1, 1),
                      dilations=(1, 1, 2, 4), out_indices=(2, 3),
                      torchvision_dilation=torchvision_dilation),
        num_bins=NUM_BINS, feat_in_channels=1024, deep_in_channels=2048,
        aspp_channels=256, aspp_dilations=(12, 24, 36)))


def compare(ref: dict) -> dict:
    """Run our network on ``ref``'s image with its converted weights.

    Args:
        ref (dict): :func:`torchvision_reference`'s result.

    Returns:
        dict: pattern (``torchvision_dilation`` / ``mmdet_dilation``) ->
        output name -> (max abs difference, max abs difference / max abs
        torchvision value).
    """
    import torch.nn.functional as F
    dtype = getattr(torch, ref['dtype'].replace('torch.', ''))
    results = {}
    for tv_dil in (True, False):
        net = _ours(tv_dil)
        dropped = net.load_deeplabv3_state_dict(ref['state_dict'],
                                                source='torchvision dump')
        assert not dropped, dropped               # 121 classes: all kept
        net = net.to(dtype).eval()
        with torch.no_grad():
            feat, deep = net.backbone(ref['image'].to(dtype))[-2:]
            pre = net.depth_head[0](net.aspp(deep))
            logits = net.depth_head[1](pre)
            logits = F.interpolate(logits, feat.shape[-2:], mode='bilinear',
                                   align_corners=False)
            full = net(ref['image'].to(dtype))['depth_logits']
        assert torch.equal(full, logits)
        ours = dict(layer3=feat, layer4=deep, head_pre_last_conv=pre,
                    logits=full)
        res = {}
        for name in OUTPUTS:
            a, b = ours[name].double(), ref['outputs'][name].double()
            err = (a - b).abs().max().item()
            res[name] = (err, err / b.abs().max().item())
        results['torchvision_dilation' if tv_dil else 'mmdet_dilation'] = \
            res
    return results


def _report(ref, results):
    print(f'reference: torch {ref["versions"]["torch"]}, torchvision '
          f'{ref["versions"]["torchvision"]}, {ref["dtype"]}, image '
          f'{tuple(ref["image"].shape)}; ours: torch {torch.__version__}')
    for pattern, res in results.items():
        for name, (err, rel) in res.items():
            print(f'  {pattern:22s} {name:20s} max abs {err:.3e}  '
                  f'rel {rel:.3e}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('mode', choices=['dump', 'compare', 'both'])
    parser.add_argument('file', nargs='?', default='deeplabv3_ref.pth')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.mode == 'dump':
        refs = [torchvision_reference(args.seed, dtype=d)
                for d in (torch.float32, torch.float64)]
        torch.save(refs, args.file)
        print(f'wrote {args.file} ({", ".join(r["dtype"] for r in refs)})')
        return
    if args.mode == 'both':
        refs = [torchvision_reference(args.seed, dtype=d)
                for d in (torch.float32, torch.float64)]
    else:
        if not osp.isfile(args.file):
            sys.exit(f'check_deeplabv3_conversion: {args.file} not found')
        refs = torch.load(args.file, weights_only=True)
    for ref in refs:
        _report(ref, compare(ref))


if __name__ == '__main__':
    main()

"""Convert a torchvision ``deeplabv3_resnet50`` checkpoint to the names of
``DepthDistributionNet`` (backbone, ASPP, head), dropping the auxiliary
classifier and the last classifier conv as the reference does
(Cc-Hy/CMKD:pcdet/models/backbones_3d/vfe/image_vfe_modules/ffn/ddn/
ddn_template.py, ``filter_pretrained_dict``).

    wget https://download.pytorch.org/models/\
deeplabv3_resnet50_coco-cd0a2569.pth
    python tools/model_converters/deeplabv3_to_cmkd.py \
        deeplabv3_resnet50_coco-cd0a2569.pth checkpoints/ddn_r50_coco.pth

The output (``dict(meta=..., state_dict=...)``, written atomically) goes
into the depth network's backbone ``init_cfg``:
``dict(type='Pretrained', checkpoint='checkpoints/ddn_r50_coco.pth')``
(the torchvision file works there as well: it is converted on the fly).
"""
import argparse
import importlib.util
import os.path as osp
import sys


def _module(name: str, *parts: str):
    """A pure module of the package, imported by path (no mmdet3d import,
    so the tool also runs where only torch is installed)."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..',
                    'cmkd_mmdet3d', *parts)
    if osp.isfile(path):
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    return importlib.import_module(                          # installed
        'cmkd_mmdet3d.' + '.'.join(parts)[:-len('.py')])


def _converter():
    return _module('deeplabv3_converter', 'models', 'utils',
                   'deeplabv3_converter.py')


def convert_file(src: str, dst: str, num_classes=None) -> dict:
    """Convert ``src`` and write ``dst`` atomically.

    Args:
        src (str): torchvision DeepLabV3 checkpoint (a plain state dict, or a
            dict with ``state_dict`` / ``model``).
        dst (str): Output path.
        num_classes (int, optional): Keep the last conv if it has this many
            classes (the reference's rule); None drops it.

    Returns:
        dict: ``meta`` written with the weights (``source``, ``dropped``,
        ``num_tensors``).

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        ValueError: If ``src`` is not a DeepLabV3 state dict (keys named).
    """
    import torch
    conv = _converter()
    if not osp.isfile(src):
        raise FileNotFoundError(f'checkpoint {src} not found')
    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    state = ckpt
    for wrapper in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    converted, dropped = conv.convert_deeplabv3_state_dict(
        state, num_classes=num_classes, source=src)
    meta = dict(source=osp.basename(src), dropped=dropped,
                num_tensors=len(converted),
                converter='tools/model_converters/deeplabv3_to_cmkd.py')
    atomic_io = _module('atomic_io', 'utils', 'atomic_io.py')
    with atomic_io.atomic_path(dst) as tmp:
        torch.save(dict(meta=meta, state_dict=converted), tmp)
    return meta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='torchvision deeplabv3_resnet50 .pth')
    parser.add_argument('dst', help='output .pth (DepthDistributionNet names)')
    parser.add_argument('--num-classes', type=int, default=None,
                        help='keep the last conv if it has this many classes '
                        '(num_bins + 1); default: drop it')
    args = parser.parse_args(argv)
    try:
        meta = convert_file(args.src, args.dst, args.num_classes)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'deeplabv3_to_cmkd: {e}')
    print(f'wrote {meta["num_tensors"]} tensors to {args.dst}; dropped '
          f'{len(meta["dropped"])}: {meta["dropped"]}')


if __name__ == '__main__':
    main()

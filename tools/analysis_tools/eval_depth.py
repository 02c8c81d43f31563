"""Depth quality of a camera student's depth network on a split's frames,
against the projected LiDAR sweep at the network's stride.

    python tools/analysis_tools/eval_depth.py CONFIG CKPT \
        [--data-root data/synthetic_kitti/] [--split val] \
        [--num-frames N] [--batch-size 4] [--out depth.json]

CONFIG is a ``CMKDMono3D`` config (its test pipeline gives the image);
CKPT any checkpoint holding the depth network: a student or CMKD
checkpoint, ``student.pth`` of tools/cmkd_two_stage.sh, or a depth
pre-training run (``cmkd-mono3d_..._depth-pretrain_...``). Only its
``img_backbone.*`` (or ``student.img_backbone.*``) tensors are read, and
they must fill the depth network exactly.

Per feature cell with a LiDAR depth in the bins' range (the depth target of
``MakeDepthTarget``: the mean depth of the cell's points), the argmax bin's
centre is compared with it: AbsRel, RMSE (m), delta < 1.25, and the share of
cells whose argmax bin is the target bin / within one bin
(:mod:`cmkd_mmdet3d.evaluation.depth_metrics`). The same metrics over
the cells inside the image boxes of the frames' ground-truth boxes
(``boxes``: the objects and what lies behind them within their boxes, the
cells that CaDDN's foreground-weighted depth loss weighs up,
:meth:`CMKDMono3D.depth_foreground`) tell how well the objects' depth is
predicted, apart from the ground's. The metrics are printed and, with
``--out``, written as JSON (atomically).

With a config whose student has ``object_depth`` (the objects' geometric
depth, :class:`~cmkd_mmdet3d.models.layers.ObjectDepthHead`), its tensors
are read from CKPT too, and the metrics are those of what the lift takes
(:meth:`CMKDMono3D.lift_logits`, the per-cell bins mixed with the objects'
depth); ``depth_network`` then holds those of the per-cell bins alone.
"""
import argparse
import copy
import json
import os.path as osp
import sys
from typing import Optional, Sequence

import torch

_PACKERS = ('Pack3DDetInputs', 'PackCMKDInputs')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='depth metrics of a camera student\'s depth network')
    parser.add_argument('config', help='CMKDMono3D config')
    parser.add_argument('checkpoint', help='checkpoint with img_backbone.*')
    parser.add_argument('--data-root', help='overrides the config\'s')
    parser.add_argument('--split', default='val',
                        help='kitti_infos_<split>.pkl (default val)')
    parser.add_argument('--num-frames', type=int,
                        help='the first N frames (default all)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--out', help='JSON file of the metrics')
    args = parser.parse_args(argv)
    if args.num_frames is not None and args.num_frames < 1:
        parser.error('--num-frames must be >= 1')
    return args


def build_dataset(cfg, data_root: Optional[str], split: str, stride: int):
    """The student's test dataset on ``split``, its test pipeline plus the
    LiDAR sweep in the camera's view, its depth target at ``stride`` and
    the ground-truth boxes (every frame kept, with or without boxes)."""
    from mmdet3d.registry import DATASETS
    ds = copy.deepcopy(cfg.test_dataloader.dataset)
    root = data_root if data_root is not None else ds.get('data_root', '')
    root = root.rstrip('/') + '/' if root else root
    ann = f'kitti_infos_{split}.pkl'
    if not osp.isfile(osp.join(root, ann)):
        raise FileNotFoundError(f'info file of split {split!r}: '
                                f'{osp.join(root, ann)} not found')
    image = [t for t in ds.pipeline if t['type'] not in _PACKERS]
    ds.update(
        # not test mode: the boxes are loaded as annotations
        data_root=root, ann_file=ann, test_mode=False, filter_empty_gt=False,
        modality=dict(use_lidar=True, use_camera=True),
        data_prefix=dict(dict(pts='training/velodyne_reduced'),
                         **ds.get('data_prefix', {})),
        pipeline=[dict(type='LoadPointsFromFile', coord_type='LIDAR',
                       load_dim=4, use_dim=4),
                  dict(type='LoadAnnotations3D', with_bbox_3d=True,
                       with_label_3d=True)] + image + [
            dict(type='FOVFilterPoints', allow_empty=True),
            dict(type='MakeDepthTarget', stride=stride),
            dict(type='PackCMKDInputs',
                 keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'])])
    return DATASETS.build(ds)


def load_depth_network(cfg, checkpoint: str):
    """The student of ``cfg`` with its depth network strictly from
    ``checkpoint`` (errors name the file)."""
    from mmdet3d.registry import MODELS
    from mmengine.runner.checkpoint import CheckpointLoader
    from cmkd_mmdet3d.models.backbones.depth_distribution_net import \
        DepthDistributionNet
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} not found')
    model = MODELS.build(copy.deepcopy(cfg.model))
    if not hasattr(model, 'depth_bins'):
        raise TypeError(f'{type(model).__name__} is not a camera student '
                        '(CMKDMono3D) config')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    sub = DepthDistributionNet.state_from_detector(state)
    if sub is None:
        raise KeyError(f'{checkpoint} has no img_backbone.* (nor '
                       'student.img_backbone.*) tensors')
    parts = [('img_backbone', model.img_backbone, sub)]
    if getattr(model, 'object_depth', None) is not None:
        obj = {k[len(p):]: v for p in ('object_depth.',
                                       'student.object_depth.')
               for k, v in state.items() if k.startswith(p)}
        if not obj:
            raise KeyError(f'{checkpoint} has no object_depth.* tensors, '
                           "which the config's object_depth needs")
        parts.append(('object_depth', model.object_depth, obj))
    for name, module, tensors in parts:
        try:
            module.load_state_dict(tensors, strict=True)
        except RuntimeError as e:
            raise ValueError(f'{checkpoint} does not fit the {name} of the '
                             f'config: {e}') from None
    return model.eval()


def evaluate(model, dataset, num_frames: Optional[int],
             batch_size: int) -> dict:
    """Summed depth errors over the frames, summarised: over every valid
    cell, and (``boxes``) over those inside the boxes' image boxes (None
    when no frame has a box), of the logits the lift takes; with
    ``object_depth`` the same for the depth network's own logits under
    ``depth_network``."""
    from mmengine.dataset import pseudo_collate
    from mmengine.utils import ProgressBar
    from cmkd_mmdet3d.evaluation.depth_metrics import (
        SUM_KEYS, depth_error_sums, summarize_depth_errors)
    n = len(dataset) if num_frames is None else min(num_frames, len(dataset))
    names = ['lifted'] + (['depth_network'] if getattr(
        model, 'object_depth', None) is not None else [])
    sums = {(name, region): dict.fromkeys(SUM_KEYS, 0.0)
            for name in names for region in ('all', 'boxes')}
    bar = ProgressBar(n)
    with torch.no_grad():
        for start in range(0, n, batch_size):
            idx = range(start, min(n, start + batch_size))
            data = model.data_preprocessor(
                pseudo_collate([dataset[i] for i in idx]), training=False)
            samples = data['data_samples']
            img, _, c2i, img_shape = model.camera_inputs(data['inputs'],
                                                         samples)
            out = model.img_backbone(img)
            logits = dict(lifted=model.lift_logits(out, c2i, img_shape),
                          depth_network=out['depth_logits'])
            shape = out['depth_logits'].shape
            depth = torch.zeros(shape[0], *shape[2:])
            for i, s in enumerate(samples):     # unpadded targets
                d = s.gt_depth
                depth[i, :d.shape[0], :d.shape[1]] = d
            boxes = model.depth_foreground(data['inputs'], samples,
                                           shape[-2:], depth.device)
            for name in names:
                for region, mask in (('all', None), ('boxes', boxes)):
                    for k, v in depth_error_sums(
                            logits[name], depth, model.depth_bins,
                            mask).items():
                        sums[name, region][k] += v
            for _ in idx:
                bar.update()
    sys.stdout.write('\n')

    def summary(name):
        box = sums[name, 'boxes']
        return dict(summarize_depth_errors(sums[name, 'all']),
                    boxes=summarize_depth_errors(box) if box['cells']
                    else None)

    metrics = dict(summary('lifted'), frames=n)
    if 'depth_network' in names:
        metrics['depth_network'] = summary('depth_network')
    return metrics


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401  (registers the plugin, shims)
    from cmkd_mmdet3d.utils.atomic_io import atomic_open
    cfg = Config.fromfile(args.config)
    model = load_depth_network(cfg, args.checkpoint)
    dataset = build_dataset(cfg, args.data_root, args.split,
                            model.img_backbone.stride)
    metrics = evaluate(model, dataset, args.num_frames, args.batch_size)
    metrics.update(config=args.config, checkpoint=args.checkpoint,
                   split=args.split)
    print(f"{args.checkpoint}: {metrics['frames']} {args.split} frames, "
          f"{metrics['cells']} cells: AbsRel {metrics['abs_rel']:.3f}, "
          f"RMSE {metrics['rmse']:.2f} m, delta<1.25 "
          f"{100 * metrics['delta_1']:.1f} %, argmax bin exact "
          f"{100 * metrics['bin_exact']:.1f} %, within 1 bin "
          f"{100 * metrics['bin_within_1']:.1f} %")
    if metrics['boxes'] is not None:
        b = metrics['boxes']
        print(f"  inside the boxes' image boxes, {b['cells']} cells: AbsRel "
              f"{b['abs_rel']:.3f}, RMSE {b['rmse']:.2f} m, delta<1.25 "
              f"{100 * b['delta_1']:.1f} %, argmax bin exact "
              f"{100 * b['bin_exact']:.1f} %, within 1 bin "
              f"{100 * b['bin_within_1']:.1f} %")
    if 'depth_network' in metrics:
        d = metrics['depth_network']
        b = d['boxes'] or dict(abs_rel=float('nan'))
        print(f"  the depth network's own bins (without object_depth): "
              f"AbsRel {d['abs_rel']:.3f}, inside the boxes "
              f"{b['abs_rel']:.3f}")
    if args.out:
        with atomic_open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
    return metrics


if __name__ == '__main__':
    main()

"""CPU inference time of the KITTI camera student against mmdet3d 1.4's
ImVoxelNet and SMOKE, at the same input, with a per-stage breakdown.

    python tools/analysis_tools/benchmark_inference.py \
        [--models student imvoxelnet smoke] [--shape 384 1248] \
        [--threads 2] [--repeat 3] [--rounds 1] [--channels-last]
        [--fuse-conv-bn] [--json OUT]

Random weights, initialised as for training (``init_weights`` without
pretrained checkpoints: the heads' classification bias gives every anchor
a score of about 0.01, so that post-processing sees few boxes, as with a
trained model, and not every anchor of the map), batch 1,
``torch.no_grad`` and eval mode, one warm-up run, then the median of
``--repeat`` runs of ``model.predict`` (network and post-processing, no
data loading). The
stages are timed with forward hooks on the modules that make them up:

- student (``cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_kitti-
  3d-3class.py``): image backbone (dilated ResNet-50), depth head (ASPP and
  the depth / feature convs), lift (softmax and frustum to voxels),
  collapse + SCNet, BEV backbone + neck + head, post-processing (the rest
  of ``predict``: box decoding and NMS);
- ImVoxelNet (``imvoxelnet_8xb4_kitti-3d-car.py``): image backbone
  (ResNet-50), FPN, the projection to voxels, 3D neck, head,
  post-processing;
- SMOKE (``smoke_dla34_dlaneck_gn-all_4xb8-6x_kitti-mono3d.py``): image
  backbone (DLA-34), DLA neck, head and post-processing.

``--channels-last`` puts every 2D conv's weights and the image in the
channels-last memory format; ``--fuse-conv-bn`` folds every BN into the
conv before it (mmcv's ``fuse_conv_bn``): both through
``cmkd_mmdet3d.apis.speed_up_for_inference``, which ``tools/infer.py``
applies with the same flags. Both keep the outputs up to float rounding:
the largest absolute difference of the raw network outputs
(``mode='tensor'``) against the plain model is measured and printed.
SMOKE cannot run channels-last (mmdet's ``get_topk_from_heatmap`` calls
``.view`` on the heatmap) and has no BN to fold (GroupNorm): it always runs
as mmdet3d ships it, and the table says so.

``--rounds N`` times every model N times, the models interleaved (round 1:
student, ImVoxelNet, SMOKE; round 2: ...), so that a change in the
machine's speed during the run reaches every model alike; the table gives
the median over rounds and the range of the totals. Prints a table;
``--json`` writes it with every round.
"""
import argparse
import json
import os.path as osp
import statistics
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

STUDENT_CFG = ('cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-60e_'
               'kitti-3d-3class.py')
IMVOXELNET_CFG = 'imvoxelnet/imvoxelnet_8xb4_kitti-3d-car.py'
SMOKE_CFG = 'smoke/smoke_dla34_dlaneck_gn-all_4xb8-6x_kitti-mono3d.py'
MODELS = ('student', 'imvoxelnet', 'smoke')
# the speed-ups each model can take: (channels-last, BN folding)
SPEED_UPS = dict(student=(True, True), imvoxelnet=(True, True),
                 smoke=(False, False))


class StageTimer:
    """Seconds spent inside given modules (forward hooks), summed over
    calls; a stage may be several modules."""

    def __init__(self, stages: Dict[str, Sequence[torch.nn.Module]]):
        self.stages = stages
        self.seconds = {name: 0.0 for name in stages}
        self._start: Dict[int, float] = {}
        self._handles = []
        for name, modules in stages.items():
            for m in modules:
                self._handles.append(m.register_forward_pre_hook(
                    self._pre(id(m))))
                self._handles.append(m.register_forward_hook(
                    self._post(id(m), name)))

    def _pre(self, key):
        def hook(module, args):
            self._start[key] = time.perf_counter()
        return hook

    def _post(self, key, name):
        def hook(module, args, out):
            self.seconds[name] += time.perf_counter() - self._start.pop(key)
        return hook

    def reset(self):
        self.seconds = {name: 0.0 for name in self.stages}

    def remove(self):
        for h in self._handles:
            h.remove()


class _Wrapped(torch.nn.Module):
    """Time a method of a model like a module: replaces ``model.<name>``
    with a call through this module, so forward hooks see it."""

    def __init__(self, model, name):
        super().__init__()
        self._fn = getattr(model, name)
        setattr(model, name, self.__call__)

    def forward(self, *args, **kwargs):
        return self._fn(*args, **kwargs)


def kitti_camera(shape: Tuple[int, int]):
    """lidar2cam and cam2img (4 x 4) of KITTI's sample calibration
    (2011_09_26) for an image of ``shape``; the principal point is moved
    to keep its place relative to the image centre."""
    from cmkd_mmdet3d.testing.synthetic.geometry import calibration_for_date
    cal = calibration_for_date('2011_09_26')
    l2c = np.asarray(cal.lidar2cam, np.float64)
    c2i = np.asarray(cal.cam2img, np.float64).copy()
    h, w = shape
    c2i[0, 2] += (w - 1242) / 2
    c2i[1, 2] += (h - 375) / 2
    return l2c, c2i


def build(name: str, shape: Tuple[int, int]):
    """(model, batch_inputs_dict, data_samples, stages) with random
    weights."""
    from mmdet3d.registry import MODELS as REG
    from mmdet3d.structures import (CameraInstance3DBoxes, Det3DDataSample,
                                    LiDARInstance3DBoxes)
    from mmengine.config import Config

    from cmkd_mmdet3d.utils import find_config
    h, w = shape
    l2c, c2i = kitti_camera(shape)
    torch.manual_seed(0)
    if name == 'student':
        cfg = Config.fromfile(find_config(STUDENT_CFG))
        cfg.model.img_backbone.pop('init_cfg', None)
        cfg.model.img_backbone.backbone.pop('init_cfg', None)
        model = REG.build(cfg.model)
        meta = dict(lidar2cam=l2c, cam2img=c2i, img_shape=(h, w),
                    box_type_3d=LiDARInstance3DBoxes)
        ib, neck = model.img_backbone, model.lift_neck
        stages = {
            'image backbone': [ib.backbone],
            'depth head': [ib],          # minus the backbone, below
            'lift': [neck],              # minus collapse + SCNet, below
            'collapse + SCNet': [neck.collapse, neck.blocks],
            'BEV backbone + head': [model.backbone, model.neck,
                                    model.bbox_head],
        }
        nested = {'depth head': ['image backbone'],
                  'lift': ['collapse + SCNet']}
    else:
        import mmdet3d
        root = osp.join(osp.dirname(mmdet3d.__file__), '.mim', 'configs')
        cfg = Config.fromfile(osp.join(
            root, IMVOXELNET_CFG if name == 'imvoxelnet' else SMOKE_CFG))
        cfg.model.backbone.pop('init_cfg', None)
        model = REG.build(cfg.model)
        if name == 'imvoxelnet':
            meta = dict(lidar2img=c2i @ l2c, img_shape=(h, w),
                        box_type_3d=LiDARInstance3DBoxes)
            stages = {
                'image backbone': [model.backbone],
                'FPN': [model.neck],
                # extract_feat minus what it calls: the projection
                'projection to voxels': [_Wrapped(model, 'extract_feat')],
                '3D neck': [model.neck_3d],
                'head': [model.bbox_head],
            }
            nested = {'projection to voxels': [
                'image backbone', 'FPN', '3D neck']}
        else:
            trans = np.array([[0.25, 0, 0], [0, 0.25, 0], [0, 0, 1]],
                             np.float32)
            meta = dict(cam2img=c2i, trans_mat=trans, pad_shape=(h, w),
                        img_shape=(h, w), affine_aug=False,
                        box_type_3d=CameraInstance3DBoxes)
            stages = {
                'image backbone': [model.backbone],
                'DLA neck': [model.neck],
                'head': [model.bbox_head],
            }
            nested = {}
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')         # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    model.eval()
    sample = Det3DDataSample(metainfo=meta)
    img = torch.randn(1, 3, h, w)
    return model, dict(imgs=img), [sample], stages, nested


def _raw_outputs(model, inputs, samples) -> List[torch.Tensor]:
    from torch.utils._pytree import tree_leaves
    with torch.no_grad():
        out = model(inputs, samples, mode='tensor')
    return [t.float().contiguous() for t in tree_leaves(out)
            if isinstance(t, torch.Tensor)]


def time_model(name: str, shape: Tuple[int, int], repeat: int,
               channels_last: bool,
               fuse: bool = False) -> Dict[str, float]:
    """Median seconds per stage and in total (``predict``); with
    ``channels_last`` / ``fuse``, also ``max_abs_diff`` of the raw outputs
    against the plain model."""
    model, inputs, samples, stages, nested = build(name, shape)
    channels_last = channels_last and SPEED_UPS[name][0]
    fuse = fuse and SPEED_UPS[name][1]
    ref = _raw_outputs(model, inputs, samples) if (channels_last
                                                   or fuse) else None
    from cmkd_mmdet3d.apis import speed_up_for_inference
    speed_up_for_inference(model, channels_last, fuse)
    if channels_last:
        inputs = dict(imgs=inputs['imgs'].contiguous(
            memory_format=torch.channels_last))
    diff = None
    if ref is not None:
        diff = max((a - b).abs().max().item() for a, b in zip(
            _raw_outputs(model, inputs, samples), ref))
    timer = StageTimer(stages)
    runs: List[Dict[str, float]] = []
    with torch.no_grad():
        for i in range(repeat + 1):
            timer.reset()
            t = time.perf_counter()
            pred = model.predict(inputs, samples)
            total = time.perf_counter() - t
            sec = dict(timer.seconds)
            for stage, inner in nested.items():
                sec[stage] -= sum(sec[s] for s in inner)
            sec['post-processing'] = total - sum(sec.values())
            sec['total'] = total
            if i:                      # the first run is the warm-up
                runs.append(sec)
    timer.remove()
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out['boxes'] = len(pred[0].pred_instances_3d.scores_3d)
    out['channels_last'], out['fuse_conv_bn'] = channels_last, fuse
    if diff is not None:
        out['max_abs_diff'] = diff
    return out


def summarize(rounds: List[Dict[str, float]]) -> Dict[str, float]:
    """Median over rounds of every number, the range of the totals and the
    speed-ups applied (the same in every round)."""
    out = {k: statistics.median(r[k] for r in rounds)
           for k, v in rounds[0].items() if not isinstance(v, bool)}
    out.update({k: v for k, v in rounds[0].items() if isinstance(v, bool)})
    totals = [r['total'] for r in rounds]
    out['total_min'], out['total_max'] = min(totals), max(totals)
    out['rounds'] = len(rounds)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=MODELS)
    parser.add_argument('--shape', nargs=2, type=int, default=(384, 1248),
                        metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--fuse-conv-bn', action='store_true')
    parser.add_argument('--json', help='write the results as JSON')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import cmkd_mmdet3d  # noqa: F401  (registers the plugin)
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    shape = tuple(args.shape)
    rounds = {name: [] for name in args.models}
    for i in range(args.rounds):
        for name in args.models:
            rounds[name].append(time_model(name, shape, args.repeat,
                                           args.channels_last,
                                           args.fuse_conv_bn))
            print(f'round {i + 1}/{args.rounds}: {name} '
                  f'{rounds[name][-1]["total"]:.2f} s', flush=True)
    results = {name: summarize(r) for name, r in rounds.items()}
    for name, r in results.items():
        fast = [k for k, on in (('channels-last', r['channels_last']),
                                ('BN folded', r['fuse_conv_bn'])) if on]
        print(f'\n{name} ({shape[0]} x {shape[1]}, {args.threads} threads, '
              f'{" + ".join(fast) or "as shipped"}, median of '
              f'{args.repeat} runs' +
              (f' and of {args.rounds} rounds' if args.rounds > 1 else '') +
              f'): {r["total"]:.2f} s' +
              (f' (rounds {r["total_min"]:.2f}-{r["total_max"]:.2f})'
               if args.rounds > 1 else '') +
              f', {r["boxes"]:.0f} boxes' +
              (f', outputs differ by {r["max_abs_diff"]:.1e}'
               if 'max_abs_diff' in r else ''))
        for stage, sec in r.items():
            if stage in stage_names(name):
                print(f'  {stage:<22} {sec:7.3f} s  '
                      f'{100 * sec / r["total"]:5.1f} %')
    if args.json:
        from cmkd_mmdet3d.utils.atomic_io import atomic_open
        with atomic_open(args.json, 'w') as f:
            json.dump(dict(shape=list(shape), threads=args.threads,
                           repeat=args.repeat,
                           channels_last=args.channels_last,
                           fuse_conv_bn=args.fuse_conv_bn,
                           torch=torch.__version__, results=results,
                           rounds=rounds),
                      f, indent=1)


def stage_names(name: str) -> List[str]:
    """The stages of a model's table, in order."""
    return dict(
        student=['image backbone', 'depth head', 'lift', 'collapse + SCNet',
                 'BEV backbone + head'],
        imvoxelnet=['image backbone', 'FPN', 'projection to voxels',
                    '3D neck', 'head'],
        smoke=['image backbone', 'DLA neck', 'head'])[name] + [
            'post-processing']


if __name__ == '__main__':
    main()

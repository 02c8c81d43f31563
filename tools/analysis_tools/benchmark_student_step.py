"""Where one training step of the camera student spends its time: forward
and backward of the image branch (depth network), of the lift (frustum to
voxels, collapse, SCNet) and of the BEV detector (backbone, neck, head and
its losses), on real frames of a dataset, CPU or GPU; one camera per sample
(KITTI) or several (the surround-view configs).

    python tools/analysis_tools/benchmark_student_step.py CONFIG \
        [--iters 5] [--warmup 1] [--threads 2] [--device cpu] [--json OUT] \
        [--cfg-options KEY=VALUE ...]

The parts are cut apart with detached inputs, so that each backward is
timed alone: ``head`` backward yields the gradient of the BEV map, the lift
backward takes it and yields the gradients of the depth logits and
features, and the image branch's backward takes those (plus the depth
loss's). The sum is one step of ``CMKDMono3D.loss`` without the optimizer.
Prints mean seconds per part over ``--iters`` steps after ``--warmup``.
"""
import argparse
import copy
import json
import statistics
import time

import torch
from mmengine.config import DictAction


def timed(fn, device):
    """(result, seconds) of ``fn()``, synchronising CUDA around it."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def total_loss(losses: dict) -> torch.Tensor:
    """Sum of a loss dict whose values are tensors or lists of tensors."""
    return sum(v.sum() if isinstance(v, torch.Tensor) else sum(x.sum()
                                                               for x in v)
               for v in losses.values())


def step_times(model, data, device: str = 'cpu',
               keep_grads: bool = False) -> dict:
    """Seconds of forward / backward per part for one training step.

    Args:
        model (CMKDMono3D): A student with ``bbox_head``, in train mode.
        data (dict): ``data_preprocessor`` output (``inputs``,
            ``data_samples``).
        device (str): For CUDA synchronisation.
        keep_grads (bool): Leave the parameters' gradients (those of
            ``model.loss``'s total) in place instead of clearing them.

    Returns:
        dict[str, float]: seconds per part, in the order they ran.
    """
    t = {}
    inputs, samples = data['inputs'], data['data_samples']
    img, l2c, c2i, shape = model.camera_inputs(inputs, samples)
    if img.dim() == 5:                   # several cameras: B * N images
        img = img.flatten(0, 1)
    out, t['image fwd'] = timed(lambda: model.img_backbone(img), device)
    logits = out['depth_logits'].detach().requires_grad_()
    feats = out['feats'].detach().requires_grad_()
    bev, t['lift fwd'] = timed(
        lambda: model.lift_neck(logits, feats, l2c, c2i, shape), device)
    bev_in = bev.detach().requires_grad_()

    def head():
        return total_loss(model.bbox_head.loss(model.bev_head_inputs(bev_in),
                                               samples))
    head_loss, t['BEV detector fwd'] = timed(head, device)
    _, t['BEV detector bwd'] = timed(head_loss.backward, device)
    _, t['lift bwd'] = timed(lambda: bev.backward(bev_in.grad), device)
    grads = [logits.grad, feats.grad]
    if model.loss_depth is not None:
        target = model.depth_targets(samples, logits.shape[-2:],
                                     logits.device)

        def depth():
            lg = out['depth_logits']
            return model.loss_depth(lg, target)
        depth_loss, t['depth loss fwd'] = timed(depth, device)
        grads[0] = grads[0] + torch.autograd.grad(
            depth_loss, out['depth_logits'], retain_graph=True)[0]
    _, t['image bwd'] = timed(
        lambda: torch.autograd.backward(
            [out['depth_logits'], out['feats']], grads), device)
    if not keep_grads:
        model.zero_grad(set_to_none=True)
    return t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch\'s)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--json', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, as tools/train.py '
                        '(e.g. model.lift_neck.voxel_size="[0.32,0.32,0.8]")')
    args = parser.parse_args()
    from mmdet3d.registry import DATASETS, MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader = cfg.train_dataloader
    dataset = DATASETS.build(loader.dataset)
    batch = pseudo_collate([dataset[i] for i in range(loader.batch_size)])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(args.device).train()
    if model.bbox_head is None:
        raise SystemExit(f'{args.config}: the student has no bbox_head '
                         '(a stage-1 config?); give a student config')
    data = model.data_preprocessor(copy.deepcopy(batch), training=True)
    runs = []
    for i in range(args.warmup + args.iters):
        times = step_times(model, data, args.device)
        if i >= args.warmup:
            runs.append(times)
    keys = list(runs[0])
    mean = {k: statistics.mean(r[k] for r in runs) for k in keys}
    total = sum(mean.values())
    print(f'{args.config} {args.cfg_options or ""}\n'
          f'batch {loader.batch_size}, images '
          f"{tuple(data['inputs']['imgs'].shape[-2:])}, device "
          f'{args.device}, threads {torch.get_num_threads()}, '
          f'{args.iters} steps after {args.warmup} warm-up\n')
    print('| part | s per step | share |\n|---|---|---|')
    for k in keys:
        print(f'| {k} | {mean[k]:.3f} | {100 * mean[k] / total:.0f} % |')
    print(f'| total | {total:.3f} | |')
    if args.json:
        from cmkd_mmdet3d.utils.atomic_io import atomic_open
        with atomic_open(args.json, 'w') as f:
            json.dump(dict(config=args.config,
                           cfg_options=args.cfg_options or {},
                           mean_s=mean, total_s=total,
                           runs=runs, threads=torch.get_num_threads(),
                           device=args.device), f, indent=1)


if __name__ == '__main__':
    main()

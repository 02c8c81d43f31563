"""Evaluate a checkpoint of a cmkd_mmdet3d (or mmdet3d) model.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show]
                         [--show-dir DIR] [--task lidar_det|mono_det|...]
                         [--score-thr 0.1] [--cfg-options k=v ...]
                         [--launcher none|pytorch|slurm|mpi]

``mim test cmkd_mmdet3d CONFIG --checkpoint CKPT`` calls this script.
Checkpoints are loaded through the allowlist loader of
:mod:`cmkd_mmdet3d.compat` (a truncated file is refused, naming it). A CMKD
checkpoint (``student.*`` / ``teacher.*``) given with a student-only
``cmkd_mono3d`` config loads its student (a log line says so); a checkpoint
matching none of the model's keys is refused instead of evaluating random
weights.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import cmkd_mmdet3d  # noqa: F401  (registers the plugin, applies the shims)
from cmkd_mmdet3d.compat import setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the metrics')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir', help='directory (inside the work dir) for pictures of '
        'the predictions')
    parser.add_argument(
        '--score-thr', type=float, default=0.1,
        help='lowest score of a drawn box')
    parser.add_argument(
        '--task', choices=['mono_det', 'multi-view_det', 'lidar_det',
                           'lidar_seg', 'multi-modality_det'],
        default='lidar_det', help='what to draw')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds between shows')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, args) -> Config:
    """--show-dir: pictures of every test sample (image + BEV) through
    PredictionVisHook, which needs no display and no open3d; --show:
    mmdet3d's interactive Det3DVisualizationHook."""
    if args.show_dir and not args.show:
        hooks = [h for h in cfg.get('custom_hooks', [])
                 if h.get('type') != 'PredictionVisHook']
        hooks.append(dict(type='PredictionVisHook', max_samples=10**9,
                          score_thr=args.score_thr, out_dir=args.show_dir))
        cfg.custom_hooks = hooks
        return cfg
    hooks = cfg.get('default_hooks', {})
    if 'visualization' not in hooks:
        raise RuntimeError(
            f'{args.config} has no default_hooks.visualization, which --show '
            'and --show-dir need')
    vis = hooks['visualization']
    vis['draw'] = True
    vis['show'] = bool(args.show)
    vis['wait_time'] = args.wait_time
    vis['vis_task'] = args.task
    vis['score_thr'] = args.score_thr
    if args.show_dir:
        vis['test_out_dir'] = args.show_dir
    return cfg


def main():
    args = parse_args()
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        # before the (slow) runner is built; a truncated file, one matching
        # none of the model's keys or an unextracted CMKD checkpoint given
        # to the student are handled where it is loaded (compat /
        # CheckpointKeysGuard of the CMKD detectors)
        sys.exit(f'tools/test.py: checkpoint file {args.checkpoint} not '
                 'found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = enable_visualization(cfg, args)
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)  # gloo + DDP without device ids on CPU
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()

"""Train a cmkd_mmdet3d model (or any mmdet3d model) with the mmengine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--auto-scale-lr]
                          [--resume [CKPT]] [--cfg-options k=v ...]
                          [--launcher none|pytorch|slurm|mpi]

The command line is mmdet3d 1.4's. ``mim train cmkd_mmdet3d CONFIG`` calls this
script; ``tools/dist_train.sh CONFIG N`` runs it on N processes (torchrun).
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import cmkd_mmdet3d  # noqa: F401  (registers the plugin, applies the shims)
from cmkd_mmdet3d.compat import setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train a 3D detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision training (CUDA only; fp32 is used on CPU)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by the real total batch size over '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--sync_bn', choices=['none', 'torch', 'mmcv'], default='none',
        help='convert BatchNorm layers to SyncBatchNorm in distributed runs')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_args(cfg: Config, args) -> Config:
    """Fold the command-line options into the config (no side effects)."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        if torch.cuda.is_available():
            wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
            if wrapper == 'AmpOptimWrapper':
                print_log('AMP is already enabled in the config',
                          logger='current')
            else:
                assert wrapper == 'OptimWrapper', (
                    f'--amp only supports OptimWrapper, got {wrapper}')
                cfg.optim_wrapper.type = 'AmpOptimWrapper'
                cfg.optim_wrapper.loss_scale = 'dynamic'
        else:
            print_log('--amp needs CUDA (mmengine AmpOptimWrapper); no GPU '
                      'here, training in fp32', logger='current',
                      level=30)

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or \
                'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError(
                f'{args.config} has no auto_scale_lr.base_batch_size; '
                'cannot use --auto-scale-lr')
        cfg.auto_scale_lr.enable = True

    if args.sync_bn != 'none':
        cfg.sync_bn = args.sync_bn

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    return cfg


def main():
    args = parse_args()
    cfg = apply_args(Config.fromfile(args.config), args)
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)  # gloo + DDP without device ids on CPU
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()

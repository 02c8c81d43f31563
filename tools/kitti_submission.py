"""A checkpoint -> the zip the KITTI 3D object test server accepts.

    python tools/kitti_submission.py CONFIG CHECKPOINT \
        [--out-dir results/kitti_test] [--zip NAME.zip] \
        [--ann-file kitti_infos_test.pkl] [--split-dir testing] \
        [--cfg-options k=v ...] [--launcher none|pytorch]

(or ``mim run cmkd_mmdet3d kitti_submission ...``). CONFIG is the
student's KITTI config (``cmkd-mono3d_*_kitti-3d-3class.py``) or a CMKD
config, CHECKPOINT as for ``tools/test.py``. The test split must have been
prepared with ``python tools/create_data.py kitti`` (which writes
``kitti_infos_test.pkl`` from ``ImageSets/test.txt`` and ``testing/``).

It runs ``Runner.test`` on the test split with mmdet3d's ``KittiMetric``
in ``format_only`` mode (one label file per frame: camera boxes, 2D boxes
from the projected corners, alpha, score), then names the files by frame,
adds an empty file for every frame without boxes, zips them at the zip's
root and reads the zip back as the server would
(:mod:`cmkd_mmdet3d.evaluation.kitti_submission`). The KITTI server wants
7518 frames (000000 - 007517); the tool says so when the split has another
number.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from cmkd_mmdet3d.apis.cli import add_model_args


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Predict the KITTI test split and pack the submission '
        'zip')
    add_model_args(parser)
    parser.add_argument('--out-dir', default='results/kitti_test',
                        help='work dir: the label files and the zip')
    parser.add_argument('--zip', help='the zip (default: OUT_DIR/'
                        'kitti_test_submission.zip)')
    parser.add_argument('--ann-file', default='kitti_infos_test.pkl',
                        help="the test split's infos, under the dataset's "
                        'data_root')
    parser.add_argument('--split-dir', default='testing',
                        help='the folder of the test frames under data_root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as tools/test.py')
    parser.add_argument('--launcher', choices=['none', 'pytorch'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    import mmengine
    from mmengine.dist import is_main_process
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from cmkd_mmdet3d.compat import setup_cpu_distributed
    from cmkd_mmdet3d.evaluation.kitti_submission import (
        KITTI_TEST_FRAMES, RESULT_SUBDIR, check_submission, frame_ids,
        pack_submission, submission_config)
    from cmkd_mmdet3d.utils import find_config
    config = find_config(args.config)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} not found')
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg = submission_config(cfg, args.out_dir, args.ann_file, args.split_dir)
    infos_path = cfg.test_evaluator['ann_file']
    if not osp.isfile(infos_path):
        sys.exit(f'{infos_path} not found: prepare the test split with '
                 'tools/create_data.py kitti (it needs ImageSets/test.txt '
                 f'and {args.split_dir}/)')
    ids = frame_ids(mmengine.load(infos_path)['data_list'], infos_path)
    cfg.work_dir = args.out_dir
    cfg.load_from = args.checkpoint
    cfg.launcher = args.launcher
    if args.launcher == 'pytorch':
        setup_cpu_distributed(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
        Runner.from_cfg(cfg)
    runner.test()
    if not is_main_process():
        return {}
    zip_path = args.zip or osp.join(args.out_dir,
                                    'kitti_test_submission.zip')
    result_dir = osp.join(cfg.test_evaluator['submission_prefix'],
                          RESULT_SUBDIR)
    packed = pack_submission(result_dir, ids, zip_path)
    checked = check_submission(zip_path, ids)
    print(f'{zip_path}: {checked["frames"]} frames, {checked["boxes"]} '
          f'boxes {checked["per_class"]}, {checked["empty"]} frames without '
          f'boxes ({packed["missing"]} written empty here)')
    if len(ids) != KITTI_TEST_FRAMES:
        print(f'note: the KITTI server expects {KITTI_TEST_FRAMES} frames '
              f'(000000 - {KITTI_TEST_FRAMES - 1:06d}); this split has '
              f'{len(ids)}')
    return dict(zip=zip_path, **checked)


if __name__ == '__main__':
    main()

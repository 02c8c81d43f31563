"""3D boxes from your own images with a trained camera student.

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER \
        (--calib KITTI_CALIB_FILE_OR_FOLDER |
         --intrinsics FX FY CX CY --cam-height H) \
        [--out-dir DIR] [--score-thr 0.3] [--batch-size 1] [--device cpu]
        [--channels-last] [--fuse-conv-bn]

(or ``mim run cmkd_mmdet3d infer ...``). CONFIG is the student's config
(``cmkd-mono3d_*``: a file, or the file name of a config of the plugin);
CHECKPOINT a checkpoint of it, an extracted student (``student.pth`` of
``tools/cmkd_two_stage.sh``) or a full CMKD checkpoint. The calibration is a
KITTI ``calib/*.txt`` file (one for every image) or a folder of them named
as the images, or the intrinsics of a level camera and its height above the
road (m). For each image it writes ``DIR/labels/<image>.txt`` (KITTI label
lines: type, truncation, occlusion, alpha, 2D box, h w l, x y z in the
rectified camera, rotation_y, score) and ``DIR/vis/<image>.png`` (the boxes
in the image and in a bird's eye view), with a progress bar.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from cmkd_mmdet3d.apis.cli import (add_calibration_args, add_model_args,
                                   calibrated_inputs, check_calibration_args)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Camera-student inference on images with their '
        'calibration: KITTI label lines and pictures')
    add_model_args(parser)
    parser.add_argument('images', nargs='+',
                        help='image files and / or folders of images')
    add_calibration_args(parser, required=True)
    parser.add_argument('--out-dir', default='outputs/infer',
                        help='labels/ and vis/ are written here')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='lowest score of the boxes drawn (every box '
                        'of the model goes into the label files)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default=None,
                        help="'cpu', 'cuda:0'... (default: available)")
    parser.add_argument('--channels-last', action='store_true',
                        help='conv weights channels-last (faster on CPU, '
                        'the same outputs up to float rounding)')
    parser.add_argument('--fuse-conv-bn', action='store_true',
                        help='fold BN into the convs (idem)')
    parser.add_argument('--no-vis', action='store_true',
                        help='write the label files only')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as tools/test.py')
    args = parser.parse_args(argv)
    check_calibration_args(parser, args)
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    from cmkd_mmdet3d.apis import CMKDMono3DInferencer
    from cmkd_mmdet3d.utils import find_config
    config = find_config(args.config)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} not found')
    inputs = calibrated_inputs(args.images, args)
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = CMKDMono3DInferencer(
        cfg, args.checkpoint, device=args.device,
        channels_last=args.channels_last, fuse_conv_bn=args.fuse_conv_bn)
    results = inferencer(inputs, batch_size=args.batch_size,
                         out_dir=args.out_dir, pred_score_thr=args.score_thr,
                         no_save_vis=args.no_vis)
    n = sum(len(p['scores_3d']) for p in results['predictions'])
    print(f'\n{len(inputs)} images, {n} boxes: label files in '
          f'{osp.join(args.out_dir, "labels")}' +
          ('' if args.no_vis else
           f', pictures in {osp.join(args.out_dir, "vis")}'))
    return results


if __name__ == '__main__':
    main()

"""3D boxes from your own images with a trained camera student.

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER \
        (--calib KITTI_CALIB_FILE_OR_FOLDER |
         --intrinsics FX FY CX CY --cam-height H) \
        [--out-dir DIR] [--score-thr 0.3] [--batch-size 1] [--device cpu]

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


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Camera-student inference on images with their '
        'calibration: KITTI label lines and pictures')
    parser.add_argument('config', help="the student's config (a file, or "
                        "the file name of one of the plugin's configs)")
    parser.add_argument('checkpoint', help='student, extracted-student or '
                        'CMKD checkpoint')
    parser.add_argument('images', nargs='+',
                        help='image files and / or folders of images')
    calib = parser.add_mutually_exclusive_group(required=True)
    calib.add_argument('--calib', help='KITTI calib/*.txt file, or a folder '
                       'of them named as the images')
    calib.add_argument('--intrinsics', nargs=4, type=float,
                       metavar=('FX', 'FY', 'CX', 'CY'),
                       help='pinhole intrinsics of a level camera (px)')
    parser.add_argument('--cam-height', type=float,
                        help='camera height above the road (m), with '
                        '--intrinsics')
    parser.add_argument('--out-dir', default='outputs/infer',
                        help='labels/ and vis/ are written here')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='lowest score of the boxes drawn (every box '
                        'of the model goes into the label files)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default=None,
                        help="'cpu', 'cuda:0'... (default: available)")
    parser.add_argument('--no-vis', action='store_true',
                        help='write the label files only')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as tools/test.py')
    args = parser.parse_args(argv)
    if args.intrinsics is not None and args.cam_height is None:
        parser.error('--intrinsics needs --cam-height')
    if args.calib is not None and args.cam_height is not None:
        parser.error('--cam-height goes with --intrinsics, not --calib')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    import cmkd_mmdet3d  # noqa: F401  (registers the plugin)
    from cmkd_mmdet3d.apis import (CMKDMono3DInferencer, calib_for_image,
                                   list_images)
    from cmkd_mmdet3d.utils import find_config
    config = find_config(args.config)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'checkpoint {args.checkpoint} not found')
    images = [f for path in args.images for f in list_images(path)]
    inputs = [
        dict(img=img, **{
            k: v
            for k, v in calib_for_image(img, args.calib, args.intrinsics,
                                        args.cam_height).items()
            if k != 'calib'
        }) for img in images
    ]
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = CMKDMono3DInferencer(cfg, args.checkpoint,
                                      device=args.device)
    results = inferencer(inputs, batch_size=args.batch_size,
                         out_dir=args.out_dir, pred_score_thr=args.score_thr,
                         no_save_vis=args.no_vis)
    n = sum(len(p['scores_3d']) for p in results['predictions'])
    print(f'\n{len(images)} images, {n} boxes: label files in '
          f'{osp.join(args.out_dir, "labels")}' +
          ('' if args.no_vis else
           f', pictures in {osp.join(args.out_dir, "vis")}'))
    return results


if __name__ == '__main__':
    main()

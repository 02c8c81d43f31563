"""Command-line pieces shared by the tools that run a trained student
(``tools/infer.py``, ``tools/deployment/export_onnx.py``,
``tools/kitti_submission.py``): the config / checkpoint arguments and the
calibration of a user's images."""
import argparse
from typing import List, Sequence

from .inferencer import calib_for_image, list_images


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Positional ``config`` and ``checkpoint``."""
    parser.add_argument('config', help="the student's config (a file, or "
                        "the file name of one of the plugin's configs)")
    parser.add_argument('checkpoint', help='student, extracted-student or '
                        'CMKD checkpoint')


def add_calibration_args(parser: argparse.ArgumentParser,
                         required: bool) -> None:
    """``--calib FILE_OR_FOLDER`` or ``--intrinsics FX FY CX CY`` with
    ``--cam-height H``; check them with :func:`check_calibration_args`."""
    calib = parser.add_mutually_exclusive_group(required=required)
    calib.add_argument('--calib', help='KITTI calib/*.txt file, or a folder '
                       'of them named as the images')
    calib.add_argument('--intrinsics', nargs=4, type=float,
                       metavar=('FX', 'FY', 'CX', 'CY'),
                       help='pinhole intrinsics of a level camera (px)')
    parser.add_argument('--cam-height', type=float,
                        help='camera height above the road (m), with '
                        '--intrinsics')


def check_calibration_args(parser: argparse.ArgumentParser,
                           args: argparse.Namespace) -> None:
    """``parser.error`` for ``--intrinsics`` without ``--cam-height`` and
    ``--cam-height`` with ``--calib``."""
    if args.intrinsics is not None and args.cam_height is None:
        parser.error('--intrinsics needs --cam-height')
    if args.calib is not None and args.cam_height is not None:
        parser.error('--cam-height goes with --intrinsics, not --calib')


def calibrated_inputs(paths: Sequence[str],
                      args: argparse.Namespace) -> List[dict]:
    """Inputs of :class:`~cmkd_mmdet3d.apis.CMKDMono3DInferencer`
    (``img``, ``lidar2cam``, ``cam2img``) for every image of ``paths``
    (files and / or folders), calibrated as the arguments say."""
    return [
        dict(img=img, **calib_for_image(img, args.calib, args.intrinsics,
                                        args.cam_height))
        for path in paths for img in list_images(path)
    ]

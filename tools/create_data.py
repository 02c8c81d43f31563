"""Create data for cmkd_mmdet3d.

    python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
        --num-train 64 --num-val 32 --num-unlabeled 0 --seed 0

writes a synthetic world in the exact KITTI layout (``training/{image_2,
velodyne,calib,label_2}``, ``ImageSets``, a KITTI-raw style ``raw/`` part)
plus mmdet3d v2 infos, FOV-reduced point clouds and the GT database, made by
mmdet3d's own converters. With real KITTI use mmdet3d's
``tools/create_data.py kitti`` instead.

    python tools/create_data.py synthetic-nuscenes --out data/synthetic_nus \
        --num-scenes 10 --num-val-scenes 2 --samples-per-scene 10 --seed 0

writes a synthetic world in the nuScenes layout from the same generator
with a surround rig (six cameras at nuScenes' mounts and intrinsics, a
32-beam LiDAR with 9 sweeps at 20 Hz before every 2 Hz key frame, the ten
detection classes, moving objects and ego): ``samples/``, ``sweeps/``, the
``v1.0-trainval`` tables that nuscenes-devkit loads, and mmdet3d v2 infos
made by mmdet3d's own nuScenes converter. With real nuScenes use mmdet3d's
``tools/create_data.py nuscenes`` instead.

    python tools/create_data.py synthetic-waymo --out data/synthetic_waymo \
        --num-train 160 --num-val 40 --seed 0 --img-height 320 --img-width 480

writes a synthetic world in mmdet3d 1.4's Waymo layout from the same
generator with a Waymo-like rig (front camera at 1920 x 1280 by default, a
64-beam top LiDAR reaching 75 m, the vehicle frame, Car / Pedestrian /
Cyclist): ``training/{image_0,velodyne,label_0}``,
``waymo_infos_{train,val}.pkl`` that ``WaymoDataset`` reads, and the val
ground truth as Waymo ``Objects`` protos (``waymo_format/{gt,fov_gt}.bin``,
written through the environment of ``make waymo-env`` when it exists). With
real Waymo use mmdet3d's ``tools/create_data.py waymo`` instead.

    python tools/create_data.py kitti-raw --root data/kitti_raw \
        --split-file eigen_clean.txt --out data/kitti/kitti_infos_eigen.pkl

writes infos without instances (image / LiDAR paths, lidar2cam, cam2img,
lidar2img, image size) for the unlabeled KITTI raw frames of a split file,
with the calibration of each drive's date; missing or corrupt frames are
skipped and listed in ``<out>.skipped.txt``; a split file none of whose
frames is usable is an error (exit status 1, the message names the split
file and the number of missing frames). The synthetic world writes its
own (``raw/kitti_infos_eigen_clean.pkl``) when ``--num-unlabeled`` > 0.
"""
import argparse
import sys
import time

import cmkd_mmdet3d  # noqa: F401
from cmkd_mmdet3d.testing.synthetic import generate_world


def _add_world_args(parser, img_shape, beams, azimuth_step, no_infos):
    """The options both synthetic worlds share: seed, image size, LiDAR
    beams and azimuth step, workers, --no-infos (with the rig's
    defaults)."""
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--img-height', type=int, default=img_shape[0])
    parser.add_argument('--img-width', type=int, default=img_shape[1])
    parser.add_argument('--beams', type=int, default=beams)
    parser.add_argument('--azimuth-step', type=float, default=azimuth_step,
                        help='LiDAR azimuth resolution in degrees')
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--no-infos', action='store_true', help=no_infos)


def _report(name, out, t0, paths):
    print(f'synthetic {name} world written to {out} in '
          f'{time.time() - t0:.1f} s')
    for split, path in paths.items():
        print(f'  {split:9s} infos: {path}')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    syn = sub.add_parser('synthetic-kitti',
                         help='generate a synthetic KITTI-format world')
    syn.add_argument('--out', required=True, help='output root')
    syn.add_argument('--num-train', type=int, default=64)
    syn.add_argument('--num-val', type=int, default=32)
    syn.add_argument('--num-unlabeled', type=int, default=0)
    _add_world_args(syn, (375, 1242), 64, 0.16,
                    'skip infos / reduced points / GT database')
    nus = sub.add_parser('synthetic-nuscenes',
                         help='generate a synthetic nuScenes-format world')
    nus.add_argument('--out', required=True, help='output root')
    nus.add_argument('--num-scenes', type=int, default=10,
                     help='scenes in all (train + val)')
    nus.add_argument('--num-val-scenes', type=int, default=2)
    nus.add_argument('--samples-per-scene', type=int, default=10,
                     help='key frames (2 Hz) per scene')
    nus.add_argument('--sweeps', type=int, default=9,
                     help='LiDAR sweeps (20 Hz) before every key frame')
    _add_world_args(nus, (900, 1600), 32, 0.33, 'skip the mmdet3d infos')
    way = sub.add_parser('synthetic-waymo',
                         help='generate a synthetic Waymo-format world')
    way.add_argument('--out', required=True, help='output root')
    way.add_argument('--num-train', type=int, default=160)
    way.add_argument('--num-val', type=int, default=40)
    way.add_argument('--gt-bin', choices=['auto', 'yes', 'no'],
                     default='auto', help='val ground truth as Waymo .bin: '
                     'auto writes it when the Waymo environment exists')
    _add_world_args(way, (1280, 1920), 64, 0.14, 'skip the mmdet3d infos')
    raw = sub.add_parser('kitti-raw',
                         help='infos of unlabeled KITTI raw frames')
    raw.add_argument('--root', required=True,
                     help='KITTI raw root (the folder of the date folders)')
    raw.add_argument('--split-file', required=True,
                     help='eigen_clean.txt, kitti_raw.txt or any list of '
                     'DATE/DRIVE/image_02/data/NNNNNNNNNN lines')
    raw.add_argument('--out', required=True, help='output .pkl')
    return parser.parse_args()


def main():
    args = parse_args()
    t0 = time.time()
    if args.dataset == 'synthetic-kitti':
        paths = generate_world(
            args.out, args.num_train, args.num_val, args.num_unlabeled,
            seed=args.seed, img_shape=(args.img_height, args.img_width),
            num_beams=args.beams, azimuth_step_deg=args.azimuth_step,
            workers=args.workers, make_infos=not args.no_infos)
        _report('KITTI', args.out, t0, paths)
    elif args.dataset == 'synthetic-nuscenes':
        from cmkd_mmdet3d.testing.synthetic import generate_nuscenes_world
        try:
            paths = generate_nuscenes_world(
                args.out, args.num_scenes, args.num_val_scenes,
                samples_per_scene=args.samples_per_scene, seed=args.seed,
                img_shape=(args.img_height, args.img_width),
                sweeps_per_sample=args.sweeps, num_beams=args.beams,
                azimuth_step_deg=args.azimuth_step, workers=args.workers,
                make_infos=not args.no_infos)
        except ValueError as e:       # bad sizes, root, or settings
            sys.exit(f'create_data.py synthetic-nuscenes: {e}')
        _report('nuScenes', args.out, t0, paths)
    elif args.dataset == 'synthetic-waymo':
        from cmkd_mmdet3d.testing.synthetic import generate_waymo_world
        try:
            paths = generate_waymo_world(
                args.out, args.num_train, args.num_val, seed=args.seed,
                img_shape=(args.img_height, args.img_width),
                num_beams=args.beams, azimuth_step_deg=args.azimuth_step,
                workers=args.workers, make_infos=not args.no_infos,
                gt_bin=dict(auto=None, yes=True, no=False)[args.gt_bin])
        except (ValueError, FileNotFoundError) as e:
            sys.exit(f'create_data.py synthetic-waymo: {e}')
        _report('Waymo', args.out, t0, paths)
    elif args.dataset == 'kitti-raw':
        from cmkd_mmdet3d.datasets import create_kitti_raw_infos
        try:
            n, skipped = create_kitti_raw_infos(args.root, args.split_file,
                                                args.out)
        except ValueError as e:       # no usable frame: names the split
            sys.exit(f'create_data.py kitti-raw: {e}')
        print(f'\n{n} unlabeled frames -> {args.out} in '
              f'{time.time() - t0:.1f} s')
        if skipped:
            print(f'{len(skipped)} frames skipped (listed in '
                  f'{args.out}.skipped.txt), e.g.:')
            for line in skipped[:5]:
                print(f'  {line}')


if __name__ == '__main__':
    main()

"""Create data for cmkd_mmdet3d.

    python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
        --num-train 64 --num-val 32 --num-unlabeled 0 --seed 0

writes a synthetic world in the exact KITTI layout (``training/{image_2,
velodyne,calib,label_2}``, ``ImageSets``, a KITTI-raw style ``raw/`` part)
plus mmdet3d v2 infos, FOV-reduced point clouds and the GT database, made by
mmdet3d's own converters. With real KITTI use mmdet3d's
``tools/create_data.py kitti`` instead.
"""
import argparse
import time

import cmkd_mmdet3d  # noqa: F401
from cmkd_mmdet3d.datasets.synthetic import generate_world


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='dataset', required=True)
    syn = sub.add_parser('synthetic-kitti',
                         help='generate a synthetic KITTI-format world')
    syn.add_argument('--out', required=True, help='output root')
    syn.add_argument('--num-train', type=int, default=64)
    syn.add_argument('--num-val', type=int, default=32)
    syn.add_argument('--num-unlabeled', type=int, default=0)
    syn.add_argument('--seed', type=int, default=0)
    syn.add_argument('--img-height', type=int, default=375)
    syn.add_argument('--img-width', type=int, default=1242)
    syn.add_argument('--beams', type=int, default=64)
    syn.add_argument('--azimuth-step', type=float, default=0.16,
                     help='LiDAR azimuth resolution in degrees')
    syn.add_argument('--workers', type=int, default=1)
    syn.add_argument('--no-infos', action='store_true',
                     help='skip infos / reduced points / GT database')
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
        print(f'synthetic KITTI world written to {args.out} in '
              f'{time.time() - t0:.1f} s')
        for split, path in paths.items():
            print(f'  {split:9s} infos: {path}')


if __name__ == '__main__':
    main()

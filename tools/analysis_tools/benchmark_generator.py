"""Frames per second of the synthetic world generator on one core.

    python tools/analysis_tools/benchmark_generator.py [--frames 20] \
        [--out F.json]

Times ``make_frame`` (scene sampling, rendering, LiDAR ray casting and
labels; file writing excluded) in one process with one thread, at KITTI's
375 x 1242 with 64 beams unless told otherwise, and prints a table.
"""
import argparse
import json
import os
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402

from cmkd_mmdet3d.testing.synthetic import (  # noqa: E402
    KITTI_RIG, calibration_for_date, make_frame)
from cmkd_mmdet3d.testing.synthetic.frame import rig_lidar  # noqa: E402
from cmkd_mmdet3d.testing.synthetic.lidar import cast_lidar  # noqa: E402
from cmkd_mmdet3d.testing.synthetic.render import render_scene  # noqa: E402
from cmkd_mmdet3d.testing.synthetic.scene import sample_scene  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--height', type=int, default=375)
    parser.add_argument('--width', type=int, default=1242)
    parser.add_argument('--beams', type=int, default=64)
    parser.add_argument('--azimuth-step', type=float, default=0.16)
    parser.add_argument('--out', help='write the results as JSON')
    args = parser.parse_args()
    import cv2
    cv2.setNumThreads(1)
    calib = calibration_for_date('2011_09_26')
    shape = (args.height, args.width)
    lidar = rig_lidar(KITTI_RIG, args.beams, args.azimuth_step)
    make_frame(0, calib, shape, args.beams, args.azimuth_step)  # warm-up
    t_render = t_lidar = 0.0
    npts = []
    t0 = time.perf_counter()
    for i in range(args.frames):
        make_frame(i + 1, calib, shape, args.beams, args.azimuth_step)
    total = time.perf_counter() - t0
    for i in range(args.frames):  # the two big parts, timed separately
        rng = np.random.default_rng(i + 1)
        scene = sample_scene(rng)
        t = time.perf_counter()
        render_scene(scene, calib, shape, seed=i)
        t_render += time.perf_counter() - t
        t = time.perf_counter()
        npts.append(
            len(cast_lidar(scene, calib, rng, lidar)))
        t_lidar += time.perf_counter() - t
    res = dict(
        frames=args.frames,
        height=args.height,
        width=args.width,
        beams=args.beams,
        azimuth_step_deg=args.azimuth_step,
        fps_per_core=args.frames / total,
        ms_per_frame=1000 * total / args.frames,
        render_ms=1000 * t_render / args.frames,
        lidar_ms=1000 * t_lidar / args.frames,
        points_per_sweep=float(np.mean(npts)))
    print('| image | beams | frames/s/core | ms/frame | render ms | '
          'LiDAR ms | points/sweep |')
    print('|---|---|---|---|---|---|---|')
    print(f'| {args.height}x{args.width} | {args.beams} | '
          f'{res["fps_per_core"]:.2f} | {res["ms_per_frame"]:.0f} | '
          f'{res["render_ms"]:.0f} | {res["lidar_ms"]:.0f} | '
          f'{res["points_per_sweep"]:.0f} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(res, f, indent=1)


if __name__ == '__main__':
    main()

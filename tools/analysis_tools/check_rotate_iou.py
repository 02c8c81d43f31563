"""Compare the CPU rotated IoU of cmkd_mmdet3d.compat with mmdet3d's CUDA
kernel (``rotate_iou_gpu_eval``) on random boxes, for every criterion.

On a machine with the full environment and a GPU:

    python tools/analysis_tools/check_rotate_iou.py

On a GPU machine without mmcv / mmdet3d installed, compute the CPU side on
another machine first and compare there:

    # CPU side
    python tools/analysis_tools/check_rotate_iou.py --save boxes.npz
    python tools/analysis_tools/check_rotate_iou.py --load boxes.npz \
        --kernel-file <mmdet3d>/evaluation/functional/kitti_utils/rotate_iou.py
"""
import argparse
import importlib.util

import numpy as np

CRITERIA = (-1, 0, 1, 2)


def random_boxes(rng, n):
    return np.stack([
        rng.uniform(-5, 5, n),
        rng.uniform(-5, 5, n),
        rng.uniform(0.3, 5, n),
        rng.uniform(0.3, 5, n),
        rng.uniform(-np.pi, np.pi, n)
    ], 1).astype(np.float32)


def load_kernel(path):
    # numba-cuda releases still reference np.row_stack, removed in numpy 2.5
    if not hasattr(np, 'row_stack'):
        np.row_stack = np.vstack
    if path is None:
        from mmdet3d.evaluation.functional.kitti_utils import rotate_iou
        return rotate_iou.rotate_iou_gpu_eval
    spec = importlib.util.spec_from_file_location('rotate_iou_kernel', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.rotate_iou_gpu_eval


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--num', type=int, default=400)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save', help='write boxes + CPU overlaps here')
    parser.add_argument('--load', help='read boxes + CPU overlaps from here')
    parser.add_argument('--kernel-file', help='path of mmdet3d rotate_iou.py')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args()
    if args.load:
        data = np.load(args.load)
        boxes, qboxes = data['boxes'], data['qboxes']
        cpu = {c: data[f'cpu_{c + 1}'] for c in CRITERIA}
    else:
        from cmkd_mmdet3d.evaluation.rotate_iou import rotate_iou_cpu
        rng = np.random.default_rng(args.seed)
        boxes, qboxes = random_boxes(rng, args.num), random_boxes(
            rng, args.num // 2)
        qboxes[:20] = boxes[:20]
        cpu = {c: rotate_iou_cpu(boxes, qboxes, c) for c in CRITERIA}
        if args.save:
            np.savez(
                args.save,
                boxes=boxes,
                qboxes=qboxes,
                **{
                    f'cpu_{c + 1}': v
                    for c, v in cpu.items()
                })
            print(f'saved {args.save}')
            return
    kernel = load_kernel(args.kernel_file)
    print(f'{len(boxes)} x {len(qboxes)} boxes')
    # the first 20 query boxes are copies of the first 20 boxes
    dup = np.zeros((len(boxes), len(qboxes)), bool)
    dup[np.arange(20), np.arange(20)] = True
    print('| criterion | max abs diff (all pairs) | pairs off by > 1e-4 | '
          'max abs diff (identical pairs) | overlapping pairs (CPU / CUDA) |')
    print('|---|---|---|---|---|')
    for c in CRITERIA:
        gpu = kernel(boxes, qboxes, c)
        diff = np.abs(gpu - cpu[c])
        print(f'| {c} | {diff[~dup].max():.3g} | {(diff[~dup] > 1e-4).sum()} '
              f'| {diff[dup].max():.3g} | {(cpu[c] > 0).sum()} / '
              f'{(gpu > 0).sum()} |')
        if args.verbose:
            for i, j in zip(*np.nonzero((diff > 1e-4) & ~dup)[:2]):
                print(' ', boxes[i].tolist(), qboxes[j].tolist(),
                      float(cpu[c][i, j]), float(gpu[i, j]))
                break
            print('  identical pairs, CPU:', np.round(cpu[c][dup][:6], 4),
                  'CUDA:', np.round(gpu[dup][:6], 4))


if __name__ == '__main__':
    main()

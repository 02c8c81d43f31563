"""Export pseudo-labels as KITTI label files with a score column, and read
such files back into infos.

    # cache (PseudoLabelHook) -> label files, one per frame
    python tools/misc/pseudo_labels.py export \
        --cache work_dirs/<run>/pseudo_labels/latest.pkl \
        --infos data/kitti_raw/kitti_infos_eigen_clean.pkl \
        --out-dir work_dirs/<run>/pseudo_label_files

    # label files (ours, or any 16-column KITTI labels) -> infos
    python tools/misc/pseudo_labels.py import \
        --label-dir work_dirs/<run>/pseudo_label_files \
        --infos data/kitti_raw/kitti_infos_eigen_clean.pkl \
        --out data/kitti_raw/kitti_infos_eigen_clean_pseudo.pkl

Files: ``DATE/DRIVE/label_02/NNNNNNNNNN.txt`` for KITTI raw frame ids
(``DATE/DRIVE/image_02/data/NNNNNNNNNN``), ``<frame id>.txt`` otherwise;
columns: type, truncated, occluded, alpha, 2D box (4), h, w, l, x, y, z
(camera, bottom centre), rotation_y, score; ``DontCare`` for an empty
frame. Imported infos carry ``instances`` with a ``score`` and
``pseudo_labeled=True``; point ``KittiRawDataset(ann_file=...)`` at them.
``import`` refuses a line with a NaN / inf value or a size (h, w, l) <= 0,
naming the file and line; ``export`` refuses ``--classes`` that differ from
the cache's class list. Caches and infos are read with an allowlist
unpickler (numpy and plain containers only).
"""
import argparse
import os.path as osp
import sys

import cmkd_mmdet3d  # noqa: F401
from cmkd_mmdet3d.datasets.pseudo_labels import (export_kitti_labels,
                                                 import_kitti_labels,
                                                 load_pseudo_labels)
from cmkd_mmdet3d.utils.atomic_io import atomic_path
from cmkd_mmdet3d.utils.safe_pickle import UnsafePickleError

CLASSES = ('Pedestrian', 'Cyclist', 'Car')


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    e = sub.add_parser('export', help='cache -> KITTI label files')
    e.add_argument('--cache', required=True)
    e.add_argument('--infos', required=True,
                   help='the infos of the labeled frames (calibration)')
    e.add_argument('--out-dir', required=True)
    e.add_argument('--digits', type=int, default=4,
                   help='decimals (KITTI files use 2)')
    i = sub.add_parser('import', help='KITTI label files -> infos')
    i.add_argument('--label-dir', required=True)
    i.add_argument('--infos', required=True)
    i.add_argument('--out', required=True)
    for q in (e, i):
        q.add_argument('--classes', nargs='+', default=None,
                       help='class names by label id (export: must '
                       "match the cache's list, which is the default; "
                       f"import: default {' '.join(CLASSES)})")
    return p.parse_args()


def main():
    import mmengine
    args = parse_args()
    try:
        infos = mmengine.load(args.infos)
        cache = load_pseudo_labels(args.cache) if args.cmd == 'export' \
            else None
    except (ValueError, UnsafePickleError) as e:  # the message names it
        sys.exit(f'error: {e}')
    if args.cmd == 'export':
        cached = cache['meta'].get('classes')
        if cached is None and args.classes is None:
            sys.exit(f'{args.cache} does not list its classes; give them '
                     'with --classes (class names by label id)')
        if cached is not None and args.classes is not None and \
                list(args.classes) != list(cached):
            sys.exit(f'{args.cache} was made for the classes {list(cached)}'
                     f', --classes gives {list(args.classes)}: its label '
                     'ids would be written as other classes')
        classes = args.classes or cached
        n = export_kitti_labels(cache, infos['data_list'], args.out_dir,
                                list(classes), args.digits)
        unknown = len(cache['frames']) - n
        print(f'{n} label files -> {args.out_dir}'
              + (f' ({unknown} cached frames are not in {args.infos})'
                 if unknown else ''))
    else:
        classes = list(args.classes or CLASSES)
        try:
            out = import_kitti_labels(infos, args.label_dir, classes)
        except ValueError as e:  # a bad line: the message names it
            sys.exit(f'refusing to import: {e}')
        n = sum(bool(d.get('pseudo_labeled')) for d in out['data_list'])
        if n == 0:
            sys.exit(f'no label file of the frames of {args.infos} under '
                     f'{args.label_dir}')
        with atomic_path(args.out) as tmp:
            mmengine.dump(out, tmp)
        boxes = sum(len(d['instances']) for d in out['data_list'])
        print(f'{n} of {len(out["data_list"])} frames pseudo-labeled '
              f'({boxes} boxes) -> {args.out}')
        missing = len(out['data_list']) - n
        if missing:
            print(f'{missing} frames have no label file (kept unlabeled), '
                  f'e.g. under {osp.join(args.label_dir, "")}')


if __name__ == '__main__':
    main()

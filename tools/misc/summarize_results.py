"""Print the KITTI metrics and the pictures of the latest test run in a work
dir (written by ``tools/test.py`` / ``mim test``), or several runs side by
side (KITTI's moderate AP40, or nuScenes' mAP, NDS and TP errors when the
runs were evaluated with ``NuScenesMetric``).

    python tools/misc/summarize_results.py WORK_DIR [--title TEXT] [--json OUT]
    python tools/misc/summarize_results.py --compare LABEL=WORK_DIR ... \
        [--title TEXT]

In ``--compare``, ``LABEL=DIR1,DIR2,...`` (runs with different seeds)
prints mean +- sample standard deviation over the runs; with exactly two
such labels of the same number of runs, the runs are paired in the order
given and a last column counts the pairs where the second label is ahead.
"""
import argparse
import glob
import json
import math
import os.path as osp
import statistics

# the prefix of the KITTI metrics' keys (KittiMetric of mmdet3d)
PREFIX = 'Kitti metric/pred_instances_3d/KITTI/'


def latest_test_log(work_dir: str):
    """(metrics dict, log dir) of the most recent run in ``work_dir``."""
    runs = sorted(glob.glob(osp.join(work_dir, '2*_*', '2*_*.json')))
    if not runs:
        raise FileNotFoundError(f'no test results (<timestamp>.json) under '
                                f'{work_dir}')
    with open(runs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return lines[-1], osp.dirname(runs[-1])


def kitti_table(metrics: dict) -> str:
    rows = []
    prefix = PREFIX
    for cls, strict in (('Car', 'strict'), ('Pedestrian', 'strict'),
                        ('Cyclist', 'strict')):
        cells = []
        for kind in ('3D', 'BEV', '2D'):
            for ap in ('AP11', 'AP40'):
                key = f'{prefix}{cls}_{kind}_{ap}_moderate_{strict}'
                cells.append(f'{metrics.get(key, float("nan")):6.2f}')
        rows.append(f'| {cls:10s} | ' + ' | '.join(cells) + ' |')
    head = ('| class (moderate) | 3D AP11 | 3D AP40 | BEV AP11 | BEV AP40 | '
            '2D AP11 | 2D AP40 |\n|---|---|---|---|---|---|---|')
    return head + '\n' + '\n'.join(rows)


COMPARE_ROWS = (
    ('Car', '3D', 'strict', 'Car 3D AP40 (IoU 0.7)'),
    ('Car', 'BEV', 'strict', 'Car BEV AP40 (IoU 0.7)'),
    ('Car', '3D', 'loose', 'Car 3D AP40 (IoU 0.5)'),
    ('Car', 'BEV', 'loose', 'Car BEV AP40 (IoU 0.5)'),
    ('Car', '2D', 'strict', 'Car 2D AP40'),
    ('Pedestrian', '3D', 'strict', 'Pedestrian 3D AP40 (IoU 0.5)'),
    ('Cyclist', '3D', 'strict', 'Cyclist 3D AP40 (IoU 0.5)'),
)


#: The nuScenes rows of ``--compare`` (``NuScenesMetric`` of mmdet3d).
NUS_PREFIX = 'NuScenes metric/pred_instances_3d_NuScenes/'
NUS_ROWS = (('mAP', 'mAP'), ('NDS', 'NDS'), ('mATE', 'mATE (m)'),
            ('mASE', 'mASE (1 - IoU)'), ('mAOE', 'mAOE (rad)'),
            ('mAVE', 'mAVE (m/s)'), ('mAAE', 'mAAE (1 - acc)'))


#: The Waymo rows of ``--compare`` (``WaymoAPMetric``): the monocular
#: protocol's Vehicle table, then Pedestrian and Cyclist at IoU 0.5.
WAYMO_PREFIX = 'Waymo AP/'
WAYMO_ROWS = tuple(
    (f'Vehicle/L{lvl} {m}@{iou}', f'Vehicle L{lvl} {m} IoU {iou}')
    for iou in ('0.7', '0.5') for lvl in (1, 2) for m in ('AP', 'APH')
) + tuple(
    (f'Vehicle/L1 AP@0.5 {rng}', f'Vehicle L1 AP IoU 0.5 {rng}')
    for rng in ('[0, 30)', '[30, 50)', '[50, +inf)')) + (
    ('Pedestrian/L1 AP@0.5', 'Pedestrian L1 AP IoU 0.5'),
    ('Cyclist/L1 AP@0.5', 'Cyclist L1 AP IoU 0.5'))


def compare_rows(metrics: dict):
    """(key, row name) of the table for runs with these metrics."""
    if f'{NUS_PREFIX}NDS' in metrics:
        return [(NUS_PREFIX + k, name) for k, name in NUS_ROWS]
    if any(k.startswith(WAYMO_PREFIX) for k in metrics):
        return [(WAYMO_PREFIX + k, name) for k, name in WAYMO_ROWS]
    return [(f'{PREFIX}{cls}_{kind}_AP40_moderate_{mode}', name)
            for cls, kind, mode, name in COMPARE_ROWS]


def compare_table(runs) -> str:
    """Moderate AP40 (nuScenes: mAP, NDS and TP errors; Waymo: AP / APH
    in %) of several runs
    side by side; ``runs`` is a list of (label, metrics) or (label,
    [metrics, ...]) for repeated runs (mean +- sample std over them, and
    for two labels of n runs each, paired in order, the number of pairs
    where the second is ahead; for the nuScenes errors, lower is ahead)."""
    runs = [(label, m if isinstance(m, list) else [m]) for label, m in runs]
    paired = (len(runs) == 2 and len(runs[0][1]) == len(runs[1][1]) > 1)
    labels = [label if len(ms) == 1 else f'{label} (mean +- std, n={len(ms)})'
              for label, ms in runs]
    if paired:
        labels.append(f'{runs[1][0]} ahead')
    rows = compare_rows(runs[0][1][0])
    nus = rows[0][0].startswith(NUS_PREFIX)
    waymo = rows[0][0].startswith(WAYMO_PREFIX)
    head = '| ' + ('nuScenes' if nus else 'Waymo (%)' if waymo else
                   'moderate') + ' | ' + ' | '.join(labels) + ' |'
    lines = [head, '|---' * (len(labels) + 1) + '|']
    scale = 100.0 if waymo else 1.0     # Waymo's AP in [0, 1], shown in %
    digits = 3 if nus else 2
    for key, name in rows:
        values = [[scale * m.get(key, float('nan')) for m in ms]
                  for _, ms in runs]
        cells = []
        for vs in values:
            if len(vs) == 1:
                cells.append(f'{vs[0]:6.{digits}f}')
            elif any(math.isnan(v) for v in vs):
                cells.append('n/a')
            else:
                cells.append(f'{statistics.mean(vs):6.{digits}f} +- '
                             f'{statistics.stdev(vs):5.{digits}f}')
        if paired:
            a, b = values
            lower = nus and key.split('/')[-1] not in ('mAP', 'NDS')
            ahead = sum((y < x) if lower else (y > x) for x, y in zip(a, b))
            cells.append(f'{ahead} of {len(a)}')
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir', nargs='?')
    parser.add_argument('--compare', nargs='+', metavar='LABEL=WORK_DIR',
                        help='print several runs side by side')
    parser.add_argument('--title', default='')
    parser.add_argument('--json', help='also write the metrics here')
    args = parser.parse_args()
    if args.compare:
        runs = []
        for item in args.compare:
            label, _, work_dirs = item.partition('=')
            metrics = [latest_test_log(d)[0] for d in work_dirs.split(',')]
            runs.append((label, metrics if len(metrics) > 1 else metrics[0]))
        if args.title:
            print(f'\n{args.title}')
        print(compare_table(runs))
        return
    if not args.work_dir:
        parser.error('give WORK_DIR or --compare')
    metrics, log_dir = latest_test_log(args.work_dir)
    if args.title:
        print(f'\n{args.title}')
    if f'{NUS_PREFIX}NDS' in metrics or any(
            k.startswith(WAYMO_PREFIX) for k in metrics):
        print(compare_table([(osp.basename(osp.normpath(args.work_dir)),
                              metrics)]))
    else:
        print(kitti_table(metrics))
    pics = sorted(glob.glob(osp.join(log_dir, 'vis', '*', '*.png')))
    print(f'metrics: {log_dir}')
    if pics:
        print(f'pictures ({len(pics)}): {osp.dirname(pics[0])}/')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(metrics, f, indent=1)


if __name__ == '__main__':
    main()

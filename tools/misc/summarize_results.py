"""Print the KITTI metrics and the pictures of the latest test run in a work
dir (written by ``tools/test.py`` / ``mim test``).

    python tools/misc/summarize_results.py WORK_DIR [--title TEXT] [--json OUT]
"""
import argparse
import glob
import json
import os.path as osp


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
    prefix = 'Kitti metric/pred_instances_3d/KITTI/'
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--title', default='')
    parser.add_argument('--json', help='also write the metrics here')
    args = parser.parse_args()
    metrics, log_dir = latest_test_log(args.work_dir)
    if args.title:
        print(f'\n{args.title}')
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

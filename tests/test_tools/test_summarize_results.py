"""tools/misc/summarize_results.py: tables of one or several test runs."""
import json

import pytest

from _helpers.tools import load_tool

KEY = 'Kitti metric/pred_instances_3d/KITTI/Car_3D_AP40_moderate_strict'
KEY2D = 'Kitti metric/pred_instances_3d/KITTI/Car_2D_AP40_moderate_strict'


@pytest.fixture(scope='module')
def summarize():
    return load_tool('misc', 'summarize_results.py')


def _row(table, name):
    return [c.strip() for c in
            [line for line in table.splitlines()
             if line.startswith(f'| {name} |')][0].split('|')[2:-1]]


def test_repeated_runs_mean_std_and_paired_count(summarize):
    a = [{KEY: 1.0, KEY2D: 40.0}, {KEY: 3.0, KEY2D: 50.0},
         {KEY: 2.0, KEY2D: 45.0}]
    b = [{KEY: 2.0, KEY2D: 30.0}, {KEY: 2.5, KEY2D: 60.0},
         {KEY: 5.0, KEY2D: 44.0}]
    table = summarize.compare_table([('A', a), ('B', b)])
    assert 'A (mean +- std, n=3)' in table and '| B ahead |' in table
    # mean 2.00, sample std 1.00; B: mean 3.17, std of (2, 2.5, 5) = 1.607
    assert _row(table, 'Car 3D AP40 (IoU 0.7)') == [
        '2.00 +-  1.00', '3.17 +-  1.61', '2 of 3']
    assert _row(table, 'Car 2D AP40') == [
        '45.00 +-  5.00', '44.67 +- 15.01', '1 of 3']


def test_single_runs_side_by_side_from_work_dirs(summarize, tmp_path):
    for name, value in (('x', 1.5), ('y', 2.25)):
        run = tmp_path / name / '20260101_000000'
        run.mkdir(parents=True)
        (run / '20260101_000000.json').write_text(
            json.dumps({KEY: value}) + '\n')
    table = summarize.compare_table(
        [(label, summarize.latest_test_log(str(tmp_path / label))[0])
         for label in ('x', 'y')])
    assert 'ahead' not in table
    assert _row(table, 'Car 3D AP40 (IoU 0.7)') == ['1.50', '2.25']
    with pytest.raises(FileNotFoundError, match='no test results'):
        summarize.latest_test_log(str(tmp_path / 'missing'))


def test_nuscenes_runs_show_map_nds_and_errors(summarize):
    """Runs evaluated with NuScenesMetric get the nuScenes rows; for the
    TP errors a lower value of the second label counts as ahead."""
    p = 'NuScenes metric/pred_instances_3d_NuScenes/'
    a = [{p + 'mAP': 0.1, p + 'NDS': 0.2, p + 'mATE': 0.9},
         {p + 'mAP': 0.3, p + 'NDS': 0.2, p + 'mATE': 0.7}]
    b = [{p + 'mAP': 0.2, p + 'NDS': 0.3, p + 'mATE': 0.8},
         {p + 'mAP': 0.2, p + 'NDS': 0.1, p + 'mATE': 0.8}]
    table = summarize.compare_table([('A', a), ('B', b)])
    assert table.startswith('| nuScenes |')
    assert _row(table, 'mAP') == ['0.200 +- 0.141', '0.200 +- 0.000',
                                  '1 of 2']
    assert _row(table, 'mATE (m)') == ['0.800 +- 0.141', '0.800 +- 0.000',
                                       '1 of 2']
    assert _row(table, 'mAVE (m/s)') == ['n/a', 'n/a', '0 of 2']
    assert 'Car 3D' not in table


def test_waymo_runs_show_level_1_and_2_in_percent(summarize):
    """Runs evaluated with WaymoAPMetric (values in [0, 1]) get the Waymo
    rows in percent; missing range shards read n/a."""
    p = 'Waymo AP/'
    a = [{p + 'Vehicle/L1 AP@0.7': 0.1, p + 'Vehicle/L1 AP@0.5 [0, 30)': 0.5},
         {p + 'Vehicle/L1 AP@0.7': 0.3}]
    b = [{p + 'Vehicle/L1 AP@0.7': 0.25, p + 'Vehicle/L1 AP@0.5 [0, 30)': 0.6},
         {p + 'Vehicle/L1 AP@0.7': 0.15}]
    table = summarize.compare_table([('A', a), ('B', b)])
    assert table.startswith('| Waymo (%) |')
    # A: mean 20.00, sample std 14.14; B: mean 20.00, std 7.07
    assert _row(table, 'Vehicle L1 AP IoU 0.7') == [
        '20.00 +- 14.14', '20.00 +-  7.07', '1 of 2']
    assert _row(table, 'Vehicle L1 AP IoU 0.5 [0, 30)')[:2] == ['n/a', 'n/a']
    assert 'Car 3D' not in table and 'NDS' not in table

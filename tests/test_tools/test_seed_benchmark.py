"""tools/analysis_tools/seed_benchmark.py: numerics, --report-only on a
fabricated tree of runs, --dry-run command lines."""
import json
import math
import os
import shlex

import pytest

from _helpers.tools import load_tool

PREFIX = 'Kitti metric/pred_instances_3d/KITTI/'
C3S = 'Car_3D_AP40_moderate_strict'
C3L = 'Car_3D_AP40_moderate_loose'
CBS = 'Car_BEV_AP40_moderate_strict'


@pytest.fixture(scope='module')
def bench():
    return load_tool('analysis_tools', 'seed_benchmark.py')


def test_mean_and_sample_std_by_hand(bench):
    # mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9, / (3 - 1)
    mean, std = bench.mean_std([1, 2, 4])
    assert mean == pytest.approx(7 / 3)
    assert std == pytest.approx(math.sqrt(7 / 3))
    assert bench.mean_std([5.0]) == (5.0, None)
    assert bench.mean_std([]) == (None, None)


def test_rule_ahead_everywhere_and_gain_above_twice_the_larger_std(bench):
    # std of both sqrt(7/3) = 1.53, gain 9 > 3.06
    c = bench.compare_pair([1, 2, 4], [10, 11, 13])
    assert (c['n'], c['ahead'], c['rule']) == (3, 3, True)
    assert c['mean_gain'] == pytest.approx(9)
    # one seed behind: 2 of 3, no rule whatever the gain
    c = bench.compare_pair([1, 2, 4], [10, 11, 3])
    assert (c['ahead'], c['rule']) == (2, False)
    assert c['mean_gain'] == pytest.approx((9 + 9 - 1) / 3)
    # std 2 each (0, 2, 4), gain exactly 2 x 2 = 4 fails, 4.5 holds
    assert bench.compare_pair([0, 2, 4], [4, 6, 8])['rule'] is False
    assert bench.compare_pair([0, 2, 4], [4.5, 6.5, 8.5])['rule'] is True
    # the larger std counts: b = (5, 6, 16), std sqrt(74 / 2) = 6.08,
    # gain 7 > 2 x 2 but < 2 x 6.08
    c = bench.compare_pair([0, 2, 4], [5, 6, 16])
    assert c['std_b'] == pytest.approx(math.sqrt(37))
    assert (c['ahead'], c['rule']) == (3, False)
    # a single seed has no std: no rule
    assert bench.compare_pair([1], [9])['rule'] is False
    # ties are not ahead
    assert bench.compare_pair([1, 2], [1, 3])['ahead'] == 1
    with pytest.raises(ValueError):
        bench.compare_pair([1, 2], [1])


def test_pair_by_seed_keeps_common_seeds_in_numeric_order(bench):
    a = {'1': 1.0, '2': 2.0, '10': 10.0, '3': 3.0}
    b = {'10': 11.0, '2': 5.0, '4': 7.0, '3': 6.0}
    assert bench.pair_by_seed(a, b) == (['2', '3', '10'], [2.0, 3.0, 10.0],
                                        [5.0, 6.0, 11.0])


def _train(it, epoch):
    return json.dumps(dict(lr=1e-3, loss=1.0, epoch=epoch, iter=it, step=it))


def _val(step, car3d, **extra):
    row = {PREFIX + C3L: car3d, PREFIX + C3S: car3d / 10, 'step': step,
           'data_time': 0.01}
    row.update({PREFIX + k: v for k, v in extra.items()})
    return json.dumps(row)


def test_parse_scalars_and_global_steps(bench):
    lines = [_train(10, 1), _train(80, 1), _val(80, 3.0), '',
             _train(160, 2), _val(160, 5.0),
             # a resumed run logging step 160 again: the last one counts
             _val(160, 6.0, Car_BEV_AP40_moderate_strict=1.5)]
    points, last_iter = bench.parse_scalars(lines)
    assert last_iter == 160
    assert [s for s, _ in points] == [80, 160]
    assert points[0][1] == {C3L: 3.0, C3S: 0.3}
    assert points[1][1] == {C3L: 6.0, C3S: 0.6, CBS: 1.5}
    shifted = bench.global_steps(points, 320)
    assert [s for s, _ in shifted] == [400, 480]
    assert shifted[1][1] is points[1][1]


def test_curve_stats_over_the_seeds_having_the_step(bench):
    curves = {'1': [(160, {C3L: 1.0}), (320, {C3L: 2.0})],
              '2': [(160, {C3L: 3.0}), (320, {C3L: 4.0})],
              '3': [(160, {C3L: 5.0})]}
    stats = bench.curve_stats(curves, C3L)
    assert [p['step'] for p in stats] == [160, 320]
    assert stats[0]['mean'] == pytest.approx(3.0)
    assert stats[0]['std'] == pytest.approx(2.0)
    assert stats[0]['n'] == 3
    assert stats[1]['mean'] == pytest.approx(3.0)
    assert stats[1]['std'] == pytest.approx(math.sqrt(2))
    assert bench.curve_stats(curves, CBS) == []


def _write_test(out, metrics, stamp='20260101_000000'):
    """A test result as ``mim test`` writes it: <out>/<ts>/<ts>.json."""
    run = out / stamp
    run.mkdir(parents=True)
    (run / f'{stamp}.json').write_text(
        json.dumps({'other': 1}) + '\n'
        + json.dumps({PREFIX + k: v for k, v in metrics.items()}) + '\n')


def _write_scalars(work, lines, stamp='20260101_000000'):
    vis = work / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text('\n'.join(lines) + '\n')


FINAL = {  # seed -> (alone, cmkd) Car 3D AP40 at IoU 0.5, BEV at IoU 0.7
    1: ((10.0, 1.0), (14.0, 3.0)),
    2: ((12.0, 2.0), (15.0, 2.5)),
}


@pytest.fixture
def fabricated_root(tmp_path):
    root = tmp_path / 'bench'
    for seed, (alone, cmkd) in FINAL.items():
        for student, (c3l, cbs) in (('alone', alone), ('cmkd', cmkd)):
            work = root / f'{student}_s{seed}'
            _write_test(work / 'test_synthetic_kitti',
                        {C3L: c3l, CBS: cbs, C3S: c3l / 10})
            vals = [_val(160, c3l / 2), _val(320, c3l)]
            if student == 'alone':
                # two starts (a resumed training): two timestamp dirs
                _write_scalars(work, [_train(160, 2), vals[0]],
                               '20260101_000000')
                _write_scalars(work, [_train(320, 4), vals[1]],
                               '20260101_010000')
            else:
                _write_scalars(work / 'stage1',
                               [_train(it, it // 80 + 1)
                                for it in range(10, 330, 10)])
                _write_scalars(work / 'stage2', [_train(160, 2)] + vals)
    # a run without a test result is left out
    (root / 'cmkd_semi_s1' / 'stage1').mkdir(parents=True)
    return root


def test_report_only_on_a_fabricated_tree(bench, fabricated_root, capsys):
    root = fabricated_root
    bench.main(['--work-dir', str(root), '--report-only',
                '--test-root', 'somewhere/synthetic_kitti/'])
    report = json.loads((root / 'benchmark.json').read_text())
    assert (root / 'benchmark_metrics.png').stat().st_size > 0
    assert (root / 'benchmark_curves.png').stat().st_size > 0
    assert report['seeds'] == [1, 2]
    assert report['test_name'] == 'synthetic_kitti'
    assert set(report['runs']['alone']) == {'1', '2'}
    assert report['runs']['cmkd_semi'] == {}
    assert report['runs']['cmkd']['2']['final'][C3L] == 15.0
    # steps as logged: alone 320; CMKD 320 (stage 1) + 160 (stage 2)
    assert report['runs']['alone']['1']['steps'] == 320
    assert report['runs']['cmkd']['1']['steps'] == 480
    assert report['steps'] == dict(alone=[320], cmkd=[480], cmkd_semi=[])
    # the student alone: steps as logged; CMKD: 320 stage-1 iterations on
    # top of stage 2's
    assert [p['step'] for p in report['runs']['alone']['1']['curve']] == [
        160, 320]
    curve = report['runs']['cmkd']['1']['curve']
    assert [(p['step'], p[C3L]) for p in curve] == [(480, 7.0), (640, 14.0)]
    mean_curve = report['curves']['cmkd'][C3L]
    assert [p['step'] for p in mean_curve] == [480, 640]
    assert mean_curve[1]['mean'] == pytest.approx(14.5)
    assert mean_curve[1]['std'] == pytest.approx(math.sqrt(0.5))
    # summaries: alone 10, 12 -> 11 +- sqrt(2); cmkd 14, 15 -> 14.5 +- 0.71
    alone = report['summary']['alone'][C3L]
    assert (alone['mean'], alone['n']) == (11.0, 2)
    assert alone['std'] == pytest.approx(math.sqrt(2))
    # pairs: cmkd vs alone, gain (4 + 3) / 2 = 3.5 > 2 sqrt(2) = 2.83
    pair = report['pairs']['cmkd_vs_alone'][C3L]
    assert (pair['ahead'], pair['n'], pair['seeds']) == (2, 2, ['1', '2'])
    assert pair['mean_gain'] == pytest.approx(3.5)
    assert pair['rule'] is True and pair['in_rule_metrics'] is True
    # BEV at IoU 0.7: 1 -> 3, 2 -> 2.5, ahead in both, gain 1.25, std of
    # cmkd sqrt(0.125) = 0.35, of alone 0.71: 1.25 < 1.41, no rule
    pair = report['pairs']['cmkd_vs_alone'][CBS]
    assert pair['ahead'] == 2 and pair['rule'] is False
    assert report['pairs']['cmkd_semi_vs_cmkd'] == {}
    table = capsys.readouterr().out
    row = [line for line in table.splitlines()
           if line.startswith('| Car 3D AP40 (IoU 0.5) |')][0]
    cells = [c.strip() for c in row.split('|')[2:-1]]
    assert cells == ['11.00 +-  1.41', '14.50 +-  0.71',
                     '2 of 2 (+3.50), rule']


def _commands(out):
    """The printed commands: [(student, seed, argv of train / test)]."""
    runs, current = [], None
    for line in out.splitlines():
        if line.startswith('== '):
            current = line.split()[1:4:2]
        elif line.strip() and current:
            runs.append((current[0], int(current[1].rstrip(':')),
                         shlex.split(line)))
    return runs


def test_dry_run_command_lines(bench, tmp_path, capsys):
    root = tmp_path / 'bench'
    # seed 1 of the student alone was interrupted: it resumes
    (root / 'alone_s1').mkdir(parents=True)
    (root / 'alone_s1' / 'last_checkpoint').write_text(
        str(root / 'alone_s1' / 'epoch_3.pth'))
    # seed 2 of the student alone is finished: skipped
    done = root / 'alone_s2'
    done.mkdir()
    (done / 'epoch_8.pth').write_bytes(b'x')
    (done / 'train_done.json').write_text(
        json.dumps(dict(checkpoint=str(done / 'epoch_8.pth'))))
    _write_test(done / 'test_val200', {C3L: 1.0})
    before = sorted(p for p in root.rglob('*'))
    bench.main(['--teacher-ckpt', 'teacher.pth', '--work-dir', str(root),
                '--seeds', '1', '2', '--test-root', 'data/val200',
                '--eval-every', '3', '--dry-run',
                '--extra-cfg-options', 'env_cfg.cudnn_benchmark=False'])
    out = capsys.readouterr().out
    assert sorted(p for p in root.rglob('*')) == before   # nothing written
    assert not (root / 'benchmark.json').exists()
    assert '== alone seed 2: done, skipped' in out
    cmds = _commands(out)
    assert [(s, seed, argv[0]) for s, seed, argv in cmds] == [
        ('alone', 1, 'mim'), ('alone', 1, 'mim'),
        ('cmkd', 1, 'STAGE2_CFG_OPTIONS=train_cfg.val_interval=3 '
         'default_hooks.logger.log_metric_by_epoch=False '
         'val_dataloader.dataset.data_root=data/val200/ '
         'val_evaluator.ann_file=data/val200/kitti_infos_val.pkl'),
        ('cmkd', 1, 'mim'),
        ('cmkd_semi', 1, cmds[2][2][0]), ('cmkd_semi', 1, 'mim'),
        ('cmkd', 2, cmds[2][2][0]), ('cmkd', 2, 'mim'),
        ('cmkd_semi', 2, cmds[2][2][0]), ('cmkd_semi', 2, 'mim')]
    train = cmds[0][2]
    assert train[:4] == ['mim', 'train', 'cmkd_mmdet3d',
                         bench.DEFAULTS['student_config']]
    assert train[train.index('--work-dir') + 1] == str(root / 'alone_s1')
    assert '--resume' in train
    opts = train[train.index('--cfg-options') + 1:]
    assert opts[:2] == ['randomness.seed=1', 'env_cfg.cudnn_benchmark=False']
    assert 'train_cfg.val_interval=3' in opts
    assert 'default_hooks.logger.log_metric_by_epoch=False' in opts
    test = cmds[1][2]
    assert test[:4] == ['mim', 'test', 'cmkd_mmdet3d',
                        bench.DEFAULTS['student_config']]
    assert test[test.index('--work-dir') + 1] == str(
        root / 'alone_s1' / 'test_val200')
    assert test[test.index('--cfg-options') + 1:] == [
        'env_cfg.cudnn_benchmark=False',
        'test_dataloader.dataset.data_root=data/val200/',
        'test_evaluator.ann_file=data/val200/kitti_infos_val.pkl']
    # CMKD: the two-stage script, the seed to both stages, validation
    # options to stage 2 only (STAGE2_CFG_OPTIONS), the extra options to its
    # own test (TEST_CFG_OPTIONS); no --resume of its own
    assert cmds[2][2][1] == 'TEST_CFG_OPTIONS=env_cfg.cudnn_benchmark=False'
    two_stage = cmds[2][2][2:]
    assert two_stage[0] == 'bash'
    assert two_stage[1].endswith(os.path.join('tools', 'cmkd_two_stage.sh'))
    assert two_stage[2:6] == ['teacher.pth', bench.DEFAULTS['stage1'],
                              bench.DEFAULTS['stage2'],
                              str(root / 'cmkd_s1')]
    assert two_stage[6:] == ['--cfg-options', 'randomness.seed=1',
                             'env_cfg.cudnn_benchmark=False']
    semi = cmds[4][2][2:]
    assert semi[3:5] == [bench.DEFAULTS['semi_stage1'],
                         bench.DEFAULTS['semi_stage2']]
    assert cmds[6][2][-1] == 'env_cfg.cudnn_benchmark=False'
    assert 'randomness.seed=2' in cmds[6][2]
    test = cmds[9][2]
    assert test[3] == bench.DEFAULTS['semi_stage2']
    assert test[test.index('--checkpoint') + 1] == (
        f'<{root / "cmkd_semi_s2"}/stage2/last_checkpoint>')
    # no --resume for the fresh student alone of seed 2 (it is done) nor in
    # any CMKD command
    assert not any('--resume' in argv for _, _, argv in cmds[2:])


def test_cli_requires_a_teacher_for_cmkd(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.parse_args(['--work-dir', str(tmp_path), '--seeds', '1'])
    args = bench.parse_args(['--work-dir', str(tmp_path), '--seeds', '1',
                             '--students', 'alone'])
    assert args.students == ['alone'] and args.eval_every == 2


def test_depth_pretrained_reaches_every_student_through_its_own_key(
        bench, tmp_path, capsys):
    ckpt = str(tmp_path / 'depth.pth')
    bench.main(['--teacher-ckpt', 'teacher.pth', '--work-dir',
                str(tmp_path / 'bench'), '--seeds', '4', '--dry-run',
                '--depth-pretrained', ckpt])
    cmds = _commands(capsys.readouterr().out)
    trains = {s: argv for s, _, argv in cmds if 'test' not in argv[:2]}
    alone = trains['alone']
    assert alone[alone.index('--cfg-options') + 1:][:2] == [
        'randomness.seed=4', f'model.img_backbone.pretrained={ckpt}']
    for student in ('cmkd', 'cmkd_semi'):
        opts = trains[student][trains[student].index('--cfg-options') + 1:]
        assert opts == ['randomness.seed=4',
                        f'model.student.img_backbone.pretrained={ckpt}']
    # tests load the trained checkpoint, not the pre-training
    assert not any(ckpt in ' '.join(argv) for s, _, argv in cmds
                   if argv[:2] == ['mim', 'test'])
    # a missing checkpoint stops before anything runs
    with pytest.raises(SystemExit, match='not found'):
        bench.main(['--work-dir', str(tmp_path / 'b2'), '--seeds', '1',
                    '--students', 'alone', '--depth-pretrained', ckpt])


WAYMO = 'Waymo AP/'
V5 = 'Vehicle/L1 AP@0.5'
V7 = 'Vehicle/L1 AP@0.7'


def _write_waymo_test(out, metrics, stamp='20260101_000000'):
    run = out / stamp
    run.mkdir(parents=True)
    (run / f'{stamp}.json').write_text(
        json.dumps({WAYMO + k: v for k, v in metrics.items()}) + '\n')


def test_waymo_report_in_percent_with_the_vehicle_rule(
        bench, tmp_path, capsys):
    root = tmp_path / 'bench'
    # WaymoAPMetric's AP in [0, 1]: alone 0.10 / 0.12, cmkd 0.20 / 0.21
    for seed, alone, cmkd in ((0, 0.10, 0.20), (1, 0.12, 0.21)):
        for student, v5 in (('alone', alone), ('cmkd', cmkd)):
            work = root / f'{student}_s{seed}'
            _write_waymo_test(work / 'test_synthetic_waymo',
                              {V5: v5, V7: v5 / 10, 'Vehicle/L1 AP@0.5 '
                               '[0, 30)': 2 * v5})
            val = json.dumps({WAYMO + V5: v5 / 2, 'step': 320})
            if student == 'alone':
                _write_scalars(work, [_train(320, 4), val])
            else:
                _write_scalars(work / 'stage1', [_train(320, 4)])
                _write_scalars(work / 'stage2', [_train(160, 2), val])
    bench.main(['--dataset', 'waymo', '--work-dir', str(root),
                '--report-only'])
    report = json.loads((root / 'benchmark.json').read_text())
    assert report['dataset'] == 'waymo'
    assert report['students'] == ['alone', 'cmkd']   # no semi configs
    final = report['runs']['cmkd']['1']['final']
    assert final[V5] == pytest.approx(21.0)
    assert final['Vehicle/L1 AP@0.5 [0, 30)'] == pytest.approx(42.0)
    # the validation at stage-2 step 320 after 320 stage-1 steps, in %
    assert [(p['step'], p[V5]) for p in report['runs']['cmkd']['0']
            ['curve']] == [(640, pytest.approx(10.0))]
    # gain (10 + 9) / 2 = 9.5 > 2 * max(1.41, 0.71): the rule holds
    pair = report['pairs']['cmkd_vs_alone'][V5]
    assert pair['mean_gain'] == pytest.approx(9.5)
    assert pair['rule'] is True and pair['in_rule_metrics'] is True
    # 0.95 > 2 * 0.141 and ahead in both: the rule holds at 0.7 too
    assert report['pairs']['cmkd_vs_alone'][V7]['rule'] is True
    table = capsys.readouterr().out
    assert '| Waymo (%), synthetic_waymo |' in table
    row = [line for line in table.splitlines()
           if line.startswith('| Vehicle L1 AP IoU 0.5 |')][0]
    assert [c.strip() for c in row.split('|')[2:-1]] == [
        '11.00 +-  1.41', '20.50 +-  0.71', '2 of 2 (+9.50), rule']
    # --report-only without --students: every student with run dirs here
    # that the dataset has configs for (one-stage runs too; no Waymo
    # cmkd_semi, although a dir of it exists)
    for seed, one in ((0, 0.15), (1, 0.16)):
        work = root / f'cmkd_1stage_s{seed}'
        _write_waymo_test(work / 'test_synthetic_waymo', {V5: one})
        _write_scalars(work, [_train(640, 8)])
    (root / 'cmkd_semi_s0').mkdir()
    bench.main(['--dataset', 'waymo', '--work-dir', str(root),
                '--report-only'])
    report = json.loads((root / 'benchmark.json').read_text())
    assert report['students'] == ['alone', 'cmkd', 'cmkd_1stage']
    # 10 -> 15, 12 -> 16: gain 4.5 > 2 * max(1.41, 0.71)
    pair = report['pairs']['cmkd_1stage_vs_alone'][V5]
    assert (pair['ahead'], pair['rule']) == (2, True)
    assert pair['mean_gain'] == pytest.approx(4.5)


def test_waymo_dry_run_uses_the_synwaymo_configs_and_gt_bin(
        bench, tmp_path, capsys):
    root = tmp_path / 'bench'
    bench.main(['--dataset', 'waymo', '--teacher-ckpt', 't.pth',
                '--work-dir', str(root), '--seeds', '3', '--dry-run'])
    cmds = _commands(capsys.readouterr().out)
    assert [(s, seed) for s, seed, _ in cmds] == [('alone', 3)] * 2 + [
        ('cmkd', 3)] * 2
    train = cmds[0][2]
    assert train[3] == bench.WAYMO.defaults['student_config']
    assert 'synwaymo' in train[3]
    assert train[-1] == ('val_evaluator.waymo_bin_file='
                         'data/synthetic_waymo/waymo_format/fov_gt.bin')
    test = cmds[3][2]
    assert test[3] == bench.WAYMO.defaults['stage2']
    assert test[-2:] == [
        'test_dataloader.dataset.data_root=data/synthetic_waymo/',
        'test_evaluator.waymo_bin_file=data/synthetic_waymo/waymo_format/'
        'fov_gt.bin']
    two_stage = cmds[2][2]
    assert bench.WAYMO.defaults['stage1'] in two_stage
    # no unlabeled-frame configs for Waymo
    with pytest.raises(SystemExit):
        bench.parse_args(['--dataset', 'waymo', '--work-dir', str(root),
                          '--seeds', '1', '--students', 'cmkd_semi',
                          '--teacher-ckpt', 't.pth'])


def test_one_stage_student_is_one_mim_train_with_the_teacher(
        bench, tmp_path, capsys):
    """cmkd_1stage: one `mim train` of the one-stage config with the teacher
    checkpoint (no two-stage script), resumed and reported as the student
    alone is, and paired against it."""
    root = tmp_path / 'bench'
    (root / 'cmkd_1stage_s5').mkdir(parents=True)
    (root / 'cmkd_1stage_s5' / 'last_checkpoint').write_text('x')
    bench.main(['--teacher-ckpt', 'teacher.pth', '--work-dir', str(root),
                '--seeds', '5', '--students', 'cmkd_1stage', '--dry-run'])
    cmds = _commands(capsys.readouterr().out)
    assert [(s, seed, argv[:2]) for s, seed, argv in cmds] == [
        ('cmkd_1stage', 5, ['mim', 'train']),
        ('cmkd_1stage', 5, ['mim', 'test'])]
    train, test = cmds[0][2], cmds[1][2]
    assert train[3] == bench.DEFAULTS['onestage'] == test[3]
    assert train[3].startswith('cmkd-1stage-tinit_')
    assert '--resume' in train
    opts = train[train.index('--cfg-options') + 1:]
    assert opts[:2] == ['model.teacher_ckpt=teacher.pth', 'randomness.seed=5']
    assert test[test.index('--checkpoint') + 1] == (
        f'<{root / "cmkd_1stage_s5"}/last_checkpoint>')
    # the report: one run dir per seed, steps as logged, paired with alone
    for seed, (alone, one) in FINAL.items():
        for student, value in (('alone', alone[0]), ('cmkd_1stage', one[0])):
            work = root / f'{student}_s{seed}'
            _write_test(work / 'test_synthetic_kitti', {C3L: value + 5 * (
                student == 'cmkd_1stage')})
            _write_scalars(work, [_train(640, 8), _val(640, value)])
    bench.main(['--work-dir', str(root), '--report-only', '--students',
                'alone', 'cmkd_1stage', '--seeds', '1', '2'])
    report = json.loads((root / 'benchmark.json').read_text())
    assert report['steps'] == dict(alone=[640], cmkd_1stage=[640])
    pair = report['pairs']['cmkd_1stage_vs_alone'][C3L]
    # 10 -> 19, 12 -> 20: gain 8.5 > 2 * std (sqrt(2), sqrt(0.5))
    assert (pair['ahead'], pair['mean_gain'], pair['rule']) == (2, 8.5, True)
    # Waymo: the synwaymo one-stage config, evaluated on the Waymo .bin;
    # no one-stage config with unlabeled frames
    wroot = tmp_path / 'wbench'
    bench.main(['--dataset', 'waymo', '--teacher-ckpt', 't.pth',
                '--work-dir', str(wroot), '--seeds', '2', '--students',
                'cmkd_1stage', '--dry-run'])
    cmds = _commands(capsys.readouterr().out)
    assert [(s, seed, argv[:2]) for s, seed, argv in cmds] == [
        ('cmkd_1stage', 2, ['mim', 'train']),
        ('cmkd_1stage', 2, ['mim', 'test'])]
    assert cmds[0][2][3] == ('cmkd-1stage-tinit_bev-resp_pointpillars-'
                             'pillar04_r18-aspp-lid40_1xb2-onecycle-8e_'
                             'synwaymo-3d-3class.py') == cmds[1][2][3]
    assert cmds[1][2][-1] == ('test_evaluator.waymo_bin_file=data/'
                              'synthetic_waymo/waymo_format/fov_gt.bin')
    with pytest.raises(SystemExit):
        bench.parse_args(['--dataset', 'waymo', '--work-dir', str(root),
                          '--seeds', '1', '--students', 'cmkd_1stage_semi',
                          '--teacher-ckpt', 't.pth'])


def test_one_stage_semi_student_uses_its_config_and_pairs_with_one_stage(
        bench, tmp_path, capsys):
    """cmkd_1stage_semi: one `mim train` of the synkitti-eigen one-stage
    config (unlabeled frames), a fresh run without --resume, paired against
    cmkd_1stage by seed."""
    root = tmp_path / 'bench'
    bench.main(['--teacher-ckpt', 'teacher.pth', '--work-dir', str(root),
                '--seeds', '2', '--students', 'cmkd_1stage_semi',
                '--dry-run'])
    cmds = _commands(capsys.readouterr().out)
    assert [(s, seed, argv[:2]) for s, seed, argv in cmds] == [
        ('cmkd_1stage_semi', 2, ['mim', 'train']),
        ('cmkd_1stage_semi', 2, ['mim', 'test'])]
    train, test = cmds[0][2], cmds[1][2]
    assert train[3] == bench.DEFAULTS['onestage_semi'] == test[3]
    assert train[3].startswith('cmkd-1stage-tinit_')
    assert '_synkitti-eigen-' in train[3]
    assert train[3] != bench.DEFAULTS['onestage']
    assert '--resume' not in train
    assert train[train.index('--work-dir') + 1] == str(
        root / 'cmkd_1stage_semi_s2')
    opts = train[train.index('--cfg-options') + 1:]
    assert opts[:2] == ['model.teacher_ckpt=teacher.pth', 'randomness.seed=2']
    # the report: the pair of the two one-stage students
    for seed, (one, semi) in {'1': (20.0, 23.0), '2': (22.0, 21.0)}.items():
        for student, value in (('cmkd_1stage', one), ('cmkd_1stage_semi',
                                                      semi)):
            work = root / f'{student}_s{seed}'
            _write_test(work / 'test_synthetic_kitti', {C3L: value})
            _write_scalars(work, [_train(640, 8), _val(640, value)])
    bench.main(['--work-dir', str(root), '--report-only', '--students',
                'cmkd_1stage', 'cmkd_1stage_semi', '--seeds', '1', '2'])
    report = json.loads((root / 'benchmark.json').read_text())
    assert report['steps'] == dict(cmkd_1stage=[640],
                                   cmkd_1stage_semi=[640])
    pair = report['pairs']['cmkd_1stage_semi_vs_cmkd_1stage'][C3L]
    # 20 -> 23, 22 -> 21: ahead in one seed, gain (3 - 1) / 2 = 1, no rule
    assert (pair['ahead'], pair['mean_gain'], pair['rule']) == (1, 1.0, False)
    assert 'cmkd_1stage_vs_alone' not in report['pairs']
    # Waymo has no one-stage config with unlabeled frames either
    with pytest.raises(SystemExit):
        bench.parse_args(['--dataset', 'waymo', '--work-dir', str(root),
                          '--seeds', '1', '--students', 'cmkd_1stage_semi',
                          '--teacher-ckpt', 't.pth'])


def test_merge_runs_of_two_work_dirs_equals_the_report_of_both(
        bench, fabricated_root, tmp_path, capsys):
    root = fabricated_root
    parts = {}
    for student in ('alone', 'cmkd'):
        bench.main(['--work-dir', str(root), '--report-only', '--students',
                    student])
        parts[student] = tmp_path / f'{student}.json'
        parts[student].write_text((root / 'benchmark.json').read_text())
    out = tmp_path / 'merged'
    capsys.readouterr()
    bench.main(['--work-dir', str(out), '--merge', str(parts['alone']),
                str(parts['cmkd'])])
    merged = json.loads((out / 'benchmark.json').read_text())
    assert (out / 'benchmark_curves.png').stat().st_size > 0
    assert merged['students'] == ['alone', 'cmkd']
    assert merged['seeds'] == [1, 2]
    # the pair exists only in the merge; by hand as in the report of the
    # tree: gain (4 + 3) / 2 = 3.5 > 2 sqrt(2), ahead in both seeds
    pair = merged['pairs']['cmkd_vs_alone'][C3L]
    assert (pair['ahead'], pair['n']) == (2, 2)
    assert pair['mean_gain'] == pytest.approx(3.5) and pair['rule'] is True
    assert merged['summary']['cmkd'][C3L]['mean'] == pytest.approx(14.5)
    assert [p['step'] for p in merged['curves']['cmkd'][C3L]] == [480, 640]
    assert '2 of 2 (+3.50), rule' in capsys.readouterr().out
    # --seeds and --students select
    bench.main(['--work-dir', str(out), '--merge', str(parts['alone']),
                str(parts['cmkd']), '--seeds', '2', '--students', 'cmkd'])
    merged = json.loads((out / 'benchmark.json').read_text())
    assert merged['students'] == ['cmkd'] and merged['seeds'] == [2]
    assert list(merged['runs']['cmkd']) == ['2']
    assert merged['summary']['cmkd'][C3L]['mean'] == 15.0


def test_merge_refuses_conflicting_runs_and_other_benchmarks(
        bench, fabricated_root, tmp_path):
    root = fabricated_root
    bench.main(['--work-dir', str(root), '--report-only'])
    report = json.loads((root / 'benchmark.json').read_text())
    a = tmp_path / 'a.json'
    a.write_text(json.dumps(report))
    # the same run recorded with another result
    report['runs']['alone']['2']['final'][C3L] = 99.0
    b = tmp_path / 'b.json'
    b.write_text(json.dumps(report))
    with pytest.raises(SystemExit, match='alone seed 2 differs between'):
        bench.main(['--work-dir', str(tmp_path / 'm'), '--merge', str(a),
                    str(b)])
    # a merge of a file with itself is the file's report
    bench.main(['--work-dir', str(tmp_path / 'm'), '--merge', str(a),
                str(a)])
    again = json.loads((tmp_path / 'm' / 'benchmark.json').read_text())
    original = json.loads(a.read_text())
    assert again['pairs'] == original['pairs']
    assert again['summary'] == original['summary']
    report['test_name'] = 'synthetic_waymo'
    b.write_text(json.dumps(report))
    with pytest.raises(SystemExit, match='test_name .* not the same'):
        bench.main(['--work-dir', str(tmp_path / 'm'), '--merge', str(a),
                    str(b)])
    with pytest.raises(SystemExit, match='not found'):
        bench.main(['--work-dir', str(tmp_path / 'm'), '--merge',
                    str(tmp_path / 'missing.json')])

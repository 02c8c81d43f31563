"""Seed benchmark of three camera students on the synthetic KITTI world (or
Waymo world): the student alone, CMKD on labeled frames, and CMKD on
labeled + unlabeled frames (online soft targets), over several seeds at
equal training steps.

    python tools/analysis_tools/seed_benchmark.py \
        --teacher-ckpt work_dirs/demo/teacher/epoch_12.pth \
        --work-dir work_dirs/seed_benchmark --seeds 1 2 3 \
        [--students alone cmkd cmkd_semi cmkd_1stage cmkd_1stage_semi] \
        [--test-root data/synthetic_kitti/] \
        [--dataset kitti|waymo] [--eval-every 2] [--dry-run] [--report-only] \
        [--merge A/benchmark.json B/benchmark.json ...] \
        [--student-config CFG] [--stage1 CFG] [--stage2 CFG] \
        [--semi-stage1 CFG] [--semi-stage2 CFG] [--onestage CFG] \
        [--onestage-semi CFG] \
        [--depth-pretrained CKPT] [--extra-cfg-options KEY=VALUE ...]

``--dataset waymo`` runs the same on the synthetic Waymo world
(``create_data.py synthetic-waymo``, default test root
``data/synthetic_waymo/``): the synwaymo student (8 epochs) and CMKD stages
(4 + 4 epochs), the same 640 steps on 160 train frames, and, when asked
for, ``cmkd_1stage`` (the 8-epoch ``cmkd-1stage-tinit`` synwaymo config); no
``cmkd_semi`` or ``cmkd_1stage_semi`` (no unlabeled-frame configs for
Waymo). They are evaluated by
``WaymoAPMetric`` on the root's ``waymo_format/fov_gt.bin`` (the Waymo
environment, ``make waymo-env``); every class / level / IoU / range AP and
APH is kept, in %, and the rule is checked on Vehicle LEVEL_1 AP at IoU 0.5 and
0.7 and APH at IoU 0.5.

The students and their steps (the synthetic world of ``tools/demo.sh``: 160
labeled train frames, so an epoch is 80 iterations at batch 2):

- ``alone``: the student without teacher (``--student-config``, default the
  8-epoch ``cmkd-mono3d_r18-aspp-lid40_secfpn-light`` synkitti config),
  ``mim train``: 8 epochs x 80 iterations at batch 2 = 640 steps;
- ``cmkd``: ``tools/cmkd_two_stage.sh`` with the 4-epoch synkitti stage 1
  and stage 2 (``--stage1`` / ``--stage2``): 4 + 4 epochs x 80 iterations
  at batch 2 = 320 + 320 = 640 steps;
- ``cmkd_semi``: the same script with the synkitti-eigen stage 1 and stage
  2 (``--semi-stage1`` / ``--semi-stage2``, the world needs unlabeled frames,
  ``create_data.py synthetic-kitti --num-unlabeled 160``): 4 + 4 epochs x
  80 iterations = 640 steps, each batch holding 2 labeled + 2 unlabeled
  frames (the labeled batches of the other two, the raw frames on top);
- ``cmkd_1stage`` (only when asked for, ``--students ... cmkd_1stage``):
  CMKD in one stage, the student's BEV backbone / neck / head from the
  teacher and no stage 1 (``--onestage``, default the 8-epoch
  ``cmkd-1stage-tinit`` synkitti config, the demo's distilled student),
  ``mim train``: 8 epochs x 80 iterations at batch 2 = 640 steps;
- ``cmkd_1stage_semi`` (only when asked for): the same one stage with
  online soft targets on unlabeled frames (``--onestage-semi``, default the
  8-epoch ``cmkd-1stage-tinit`` synkitti-eigen config; the world needs
  unlabeled frames): 8 epochs x 80 iterations = 640 steps, each batch
  holding 2 labeled + 2 unlabeled frames, as ``cmkd_semi``.

``--depth-pretrained CKPT`` initialises the depth network of all three
students from one depth pre-training run (``configs/cmkd_mono3d/cmkd-mono3d_
r18-aspp-lid40_depth-pretrain_1xb2-onecycle-3e_synkitti-eigen.py``: the
world's labeled and unlabeled frames, depth loss only), through
``model[.student].img_backbone.pretrained``; its steps are not counted in
the students' steps below, and are the same for all three.

The configs are not changed; ``--extra-cfg-options`` go to every training
(a changed schedule changes the steps above) and to every test (so that a
model change, e.g. ``model.lift_neck.voxel_size=...``, holds when the
checkpoint is loaded; training-only keys do nothing there). Every training gets
``randomness.seed=SEED``. Each run lives in ``WORK_DIR/<student>_s<seed>/``:

- ``alone`` / ``cmkd_1stage`` / ``cmkd_1stage_semi``: the ``mim train``
  work dir,
  ``train_done.json`` (the final
  checkpoint, written when ``mim train`` returned) and
  ``test_<test root name>/`` (``mim test`` on ``--test-root``);
- ``cmkd`` / ``cmkd_semi``: the work dir of ``cmkd_two_stage.sh``
  (``stage1/``, ``stage2/``, ``stage2_test/``, ``student.pth``, the last
  file it writes) and ``test_<test root name>/``.

A run whose final checkpoint and test result are present is skipped; an
interrupted training resumes (``--resume`` when ``last_checkpoint`` exists;
the two-stage script resumes its stages), an interrupted test is run again.
Running again with more seeds only runs the new ones.

AP against training step: the trainings with a head (the student alone,
stage 2) validate every ``--eval-every`` epochs on ``--test-root``'s val
frames (``train_cfg.val_interval``; mmengine also validates after the last
epoch), and log the metrics by iteration
(``default_hooks.logger.log_metric_by_epoch=False``) into
``<work dir>/<timestamp>/vis_data/scalars.json``; stage 1 has no head and no
validation, so these options reach stage 2 only (``STAGE2_CFG_OPTIONS`` of
``cmkd_two_stage.sh``). A validation's step is the global training iteration
of its student: for the two-stage students, the iterations of stage 1 (the
last ``iter`` it logged) plus the stage-2 iteration.

Outputs (``--report-only`` rebuilds them from the run dirs, training and
testing nothing; without ``--seeds`` it takes every seed it finds, and
without ``--students`` every student with run dirs there;
``--merge A/benchmark.json B/benchmark.json`` builds them in ``--work-dir``
from the runs recorded in those files, e.g. seeds or students run in other
work dirs, or the committed ones under ``docs/benchmarks/``):

- ``WORK_DIR/benchmark.json``: per student and seed the final moderate
  KITTI metrics (Car / Pedestrian / Cyclist, 3D / BEV / 2D, AP40 and AP11,
  IoU strict and loose, keys without the ``Kitti metric/...`` prefix) and the
  AP-vs-step curve; per student the mean and sample std of every metric;
  the mean curve; and for the pairs (cmkd vs alone, cmkd_semi vs cmkd,
  cmkd_1stage vs alone, cmkd_1stage_semi vs cmkd_1stage, paired by seed)
  per table metric the seeds where the second is ahead, the
  mean gain and whether the rule holds: ahead in every seed and mean gain
  > 2 * max(std of the first, std of the second);
- ``WORK_DIR/benchmark_metrics.png``: means with std error bars per metric;
- ``WORK_DIR/benchmark_curves.png``: Car 3D AP40 (IoU 0.5) and Car BEV AP40
  (IoU 0.7) against the global training step, mean over seeds, std band;
- a markdown table on stdout (mean +- std per student, the pairs' "k of N"
  seeds ahead).
"""
import argparse
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import shlex
import statistics
import subprocess
import sys
from typing import NamedTuple

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TOOLS)


def _load(name, path):
    """A module from a file (the tools are not a package; importing
    ``cmkd_mmdet3d`` itself would register the whole plugin)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


summarize = _load('summarize_results',
                  osp.join(TOOLS, 'misc', 'summarize_results.py'))
atomic_io = _load('cmkd_atomic_io',
                  osp.join(REPO, 'cmkd_mmdet3d', 'utils', 'atomic_io.py'))

PREFIX = summarize.PREFIX
STUDENTS = ('alone', 'cmkd', 'cmkd_semi', 'cmkd_1stage', 'cmkd_1stage_semi')
LABELS = {'alone': 'student alone', 'cmkd': 'student + CMKD',
          'cmkd_semi': 'student + CMKD (+ unlabeled)',
          'cmkd_1stage': 'student + CMKD (one stage)',
          'cmkd_1stage_semi': 'student + CMKD (one stage, + unlabeled)'}
PAIRS = (('alone', 'cmkd'), ('cmkd', 'cmkd_semi'), ('alone', 'cmkd_1stage'),
         ('cmkd_1stage', 'cmkd_1stage_semi'))
# the students trained by one `mim train` (the others by cmkd_two_stage.sh)
ONE_RUN = ('alone', 'cmkd_1stage', 'cmkd_1stage_semi')
# the CMKD students of one `mim train`, and their configs' argument
ONE_STAGE = dict(cmkd_1stage='onestage', cmkd_1stage_semi='onestage_semi')
# the students of a run without --students (the one-stage ones only when
# asked for)
DEFAULT_STUDENTS = ('alone', 'cmkd', 'cmkd_semi')
DEFAULTS = dict(
    student_config='cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-'
    '8e_synkitti-3d-3class.py',
    stage1='cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_'
    'synkitti-3d-3class.py',
    stage2='cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-'
    'onecycle-4e_synkitti-3d-3class.py',
    semi_stage1='cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb4-'
    'onecycle-4e_synkitti-eigen-3d-3class.py',
    semi_stage2='cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb4-'
    'onecycle-4e_synkitti-eigen-3d-3class.py',
    onestage='cmkd-1stage-tinit_bev-resp_pointpillars-pillar032_r18-aspp-'
    'lid40_1xb2-onecycle-8e_synkitti-3d-3class.py',
    onestage_semi='cmkd-1stage-tinit_bev-resp_pointpillars-pillar032_r18-'
    'aspp-lid40_1xb4-onecycle-8e_synkitti-eigen-3d-3class.py')
# every moderate metric kept per run (the AP40 and AP11 ones)
METRICS = tuple(f'{cls}_{kind}_{ap}_moderate_{mode}'
                for cls in ('Car', 'Pedestrian', 'Cyclist')
                for kind in ('3D', 'BEV', '2D')
                for ap in ('AP40', 'AP11')
                for mode in ('strict', 'loose'))
# the table's rows: (key, name), those of summarize_results --compare
TABLE = tuple((f'{cls}_{kind}_AP40_moderate_{mode}', name)
              for cls, kind, mode, name in summarize.COMPARE_ROWS)
# the metrics of the rule (ahead in every seed, gain > 2 x std)
RULE_METRICS = ('Car_3D_AP40_moderate_strict', 'Car_BEV_AP40_moderate_strict',
                'Car_3D_AP40_moderate_loose', 'Car_BEV_AP40_moderate_loose',
                'Car_2D_AP40_moderate_strict')
CURVE_PANELS = (('Car_3D_AP40_moderate_loose', 'Car 3D AP40 (IoU 0.5)'),
                ('Car_BEV_AP40_moderate_strict', 'Car BEV AP40 (IoU 0.7)'))


class Profile(NamedTuple):
    """What differs between the benchmark's worlds: the metric keys (kept
    without ``prefix``, multiplied by ``scale``), the table, the rule, the
    curves, the default configs and test root, and how a data root reaches
    the evaluation (``evaluator_file``: the evaluator key and the file
    under the root)."""
    name: str
    prefix: str
    scale: float
    metrics: tuple
    table: tuple
    rule_metrics: tuple
    curve_panels: tuple
    defaults: dict
    test_root: str
    val_infos: str
    evaluator_file: tuple
    unit: str


KITTI = Profile(
    name='kitti', prefix=PREFIX, scale=1.0, metrics=METRICS, table=TABLE,
    rule_metrics=RULE_METRICS, curve_panels=CURVE_PANELS, defaults=DEFAULTS,
    test_root='data/synthetic_kitti/', val_infos='kitti_infos_val.pkl',
    evaluator_file=('ann_file', 'kitti_infos_val.pkl'),
    unit='AP40, moderate')
# Waymo (WaymoAPMetric, the official op; AP in [0, 1], kept in %): every
# class / level / AP-APH / IoU / range key; the rule on Vehicle LEVEL_1
WAYMO_IOUS = dict(Vehicle=('0.7', '0.5'), Pedestrian=('0.5', '0.25'),
                  Cyclist=('0.5', '0.25'))
WAYMO = Profile(
    name='waymo', prefix=summarize.WAYMO_PREFIX, scale=100.0,
    metrics=tuple(f'{cls}/L{lvl} {m}@{iou}{rng}'
                  for cls, ious in WAYMO_IOUS.items() for iou in ious
                  for lvl in (1, 2) for m in ('AP', 'APH')
                  for rng in ('', ' [0, 30)', ' [30, 50)', ' [50, +inf)')),
    table=summarize.WAYMO_ROWS,
    rule_metrics=('Vehicle/L1 AP@0.5', 'Vehicle/L1 APH@0.5',
                  'Vehicle/L1 AP@0.7'),
    curve_panels=(('Vehicle/L1 AP@0.5', 'Vehicle L1 AP (IoU 0.5)'),
                  ('Vehicle/L1 AP@0.7', 'Vehicle L1 AP (IoU 0.7)')),
    defaults=dict(
        student_config='cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-'
        'onecycle-8e_synwaymo-3d-3class.py',
        stage1='cmkd_bev_pointpillars-pillar04_r18-aspp-lid40_1xb2-'
        'onecycle-4e_synwaymo-3d-3class.py',
        stage2='cmkd_bev-resp_pointpillars-pillar04_r18-aspp-lid40_1xb2-'
        'onecycle-4e_synwaymo-3d-3class.py',
        semi_stage1=None, semi_stage2=None,
        onestage='cmkd-1stage-tinit_bev-resp_pointpillars-pillar04_r18-aspp-'
        'lid40_1xb2-onecycle-8e_synwaymo-3d-3class.py',
        onestage_semi=None),
    test_root='data/synthetic_waymo/', val_infos='waymo_infos_val.pkl',
    evaluator_file=('waymo_bin_file', 'waymo_format/fov_gt.bin'),
    unit='AP in %, front camera')
PROFILES = {p.name: p for p in (KITTI, WAYMO)}


# ---------------------------------------------------------------- numerics
def mean_std(values):
    """(mean, sample standard deviation) of ``values``; the std is None
    for fewer than 2 values, both are None for none."""
    values = [float(v) for v in values]
    if not values:
        return None, None
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else None
    return mean, std


def pair_by_seed(a, b):
    """Values of two students paired by seed: ``a`` and ``b`` map seed ->
    value; returns (seeds, values of a, values of b) over their common
    seeds, in increasing seed order."""
    seeds = sorted(set(a) & set(b), key=int)
    return seeds, [a[s] for s in seeds], [b[s] for s in seeds]


def compare_pair(a, b):
    """``b`` against ``a``, two equally long lists of values paired by seed.

    Returns a dict: ``n`` pairs, ``ahead`` (pairs where b > a),
    ``mean_gain`` (mean of b - a), ``std_a``, ``std_b`` (sample std) and
    ``rule``: b ahead in every pair and mean gain > 2 * max(std_a, std_b)
    (False with fewer than 2 pairs: no std).
    """
    if len(a) != len(b):
        raise ValueError(f'{len(a)} values against {len(b)}')
    n = len(a)
    ahead = sum(y > x for x, y in zip(a, b))
    gain = statistics.mean(y - x for x, y in zip(a, b)) if n else None
    std_a, std_b = mean_std(a)[1], mean_std(b)[1]
    rule = (n > 1 and ahead == n and std_a is not None
            and std_b is not None and gain > 2 * max(std_a, std_b))
    return dict(n=n, ahead=ahead, mean_gain=gain, std_a=std_a, std_b=std_b,
                rule=bool(rule))


def short_metrics(metrics, profile=KITTI):
    """The profile's keys of a metrics dict, without the key prefix, times
    the profile's scale (Waymo's AP in [0, 1] -> %)."""
    return {k: profile.scale * float(metrics[profile.prefix + k])
            for k in profile.metrics if profile.prefix + k in metrics}


def parse_scalars(lines, profile=KITTI):
    """The validations in the lines of mmengine's ``scalars.json``.

    Returns ([(step, {short key: value}), ...] in step order (a step
    logged twice, e.g. by a resumed run, keeps its last values), the
    largest training ``iter`` logged or 0). Validation lines are those with
    the profile's metric keys; their ``step`` is the iteration when logged with
    ``log_metric_by_epoch=False`` (the epoch otherwise).
    """
    vals, last_iter = {}, 0
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if any(k.startswith(profile.prefix) for k in row):
            vals[int(row['step'])] = short_metrics(row, profile)
        elif 'iter' in row:
            last_iter = max(last_iter, int(row['iter']))
    return sorted(vals.items()), last_iter


def global_steps(points, offset):
    """Validation points [(step, metrics), ...] of a stage that starts after
    ``offset`` training iterations, as global training iterations."""
    return [(offset + step, metrics) for step, metrics in points]


def curve_stats(curves, key):
    """Mean curve of one metric over seeds: ``curves`` maps seed ->
    [(step, metrics), ...]; returns [{step, mean, std, n}, ...] in step
    order, over the seeds that have the step (std None when n < 2)."""
    by_step = {}
    for points in curves.values():
        for step, metrics in points:
            if key in metrics:
                by_step.setdefault(step, []).append(metrics[key])
    out = []
    for step in sorted(by_step):
        mean, std = mean_std(by_step[step])
        out.append(dict(step=step, mean=mean, std=std, n=len(by_step[step])))
    return out


def summarize_runs(runs, profile=KITTI):
    """Per metric mean / sample std / n over the runs of one student
    (``runs`` maps seed -> {metric: value})."""
    out = {}
    for key in profile.metrics:
        values = [m[key] for m in runs.values() if key in m]
        if values:
            mean, std = mean_std(values)
            out[key] = dict(mean=mean, std=std, n=len(values))
    return out


def compare_students(final, first, second, profile=KITTI):
    """The pair (``first``, ``second``) per metric: ``final`` maps student
    -> seed -> metrics; returns {metric: compare_pair(...) + seeds}."""
    out = {}
    for key, _ in profile.table:
        a = {s: m[key] for s, m in final.get(first, {}).items() if key in m}
        b = {s: m[key] for s, m in final.get(second, {}).items() if key in m}
        seeds, va, vb = pair_by_seed(a, b)
        if seeds:
            out[key] = dict(compare_pair(va, vb), seeds=seeds,
                            in_rule_metrics=key in profile.rule_metrics)
    return out


def _fmt(mean, std):
    if mean is None:
        return 'n/a'
    return f'{mean:6.2f} +- ' + ('  n/a' if std is None else f'{std:5.2f}')


def markdown_table(report):
    """Mean +- std per student and metric, and per pair "k of N" seeds where
    the second is ahead (with "rule" where the rule holds)."""
    profile = PROFILES[report.get('dataset', 'kitti')]
    students = [s for s in report['students'] if report['summary'].get(s)]
    pairs = [p for p in report['pairs'] if report['pairs'][p]]
    head = [f'{LABELS[s]} (mean +- std, n={len(report["runs"][s])})'
            for s in students]
    head += [f'{LABELS[p.split("_vs_")[0]]} ahead of '
             f'{LABELS[p.split("_vs_")[1]]}' for p in pairs]
    first = ('moderate' if profile is KITTI else
             f'{profile.name.capitalize()} (%)')
    lines = [f'| {first}, {report["test_name"]} | ' + ' | '.join(head)
             + ' |', '|---' * (len(head) + 1) + '|']
    for key, name in profile.table:
        cells = []
        for s in students:
            stat = report['summary'][s].get(key)
            cells.append(_fmt(stat['mean'], stat['std']) if stat else 'n/a')
        for p in pairs:
            c = report['pairs'][p].get(key)
            if not c:
                cells.append('n/a')
                continue
            cell = f'{c["ahead"]} of {c["n"]} ({c["mean_gain"]:+.2f})'
            if c['in_rule_metrics'] and c['rule']:
                cell += ', rule'
            cells.append(cell)
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


# ---------------------------------------------------------------- run dirs
def run_dir(root, student, seed):
    return osp.join(root, f'{student}_s{seed}')


def test_name(test_root):
    return osp.basename(osp.normpath(test_root))


def read_scalars(work_dir, profile=KITTI):
    """parse_scalars over every ``<timestamp>/vis_data/scalars.json`` of a
    mmengine work dir (one per start of a resumed training)."""
    lines = []
    for path in sorted(glob.glob(osp.join(work_dir, '2*_*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            lines.extend(f.readlines())
    return parse_scalars(lines, profile)


def run_log(root, student, seed, profile=KITTI):
    """(curve, steps) of one run from its logs, each read once: the
    AP-vs-global-step points [(step, metrics), ...] and the training
    iterations it took (the last logged one; CMKD: stage 1's plus stage
    2's, stage 2's points shifted by stage 1's)."""
    work = run_dir(root, student, seed)
    if student in ONE_RUN:
        return read_scalars(work, profile)
    stage1_iters = read_scalars(osp.join(work, 'stage1'), profile)[1]
    points, stage2_iters = read_scalars(osp.join(work, 'stage2'), profile)
    return global_steps(points, stage1_iters), stage1_iters + stage2_iters


def _read(path):
    with open(path) as f:
        return f.read().strip()


def final_checkpoint(root, student, seed):
    """The final checkpoint of a finished training, or None."""
    work = run_dir(root, student, seed)
    if student in ONE_RUN:
        done = osp.join(work, 'train_done.json')
        ckpt = None
        if osp.isfile(done):
            with open(done) as f:
                ckpt = json.load(f)['checkpoint']
    else:
        last = osp.join(work, 'stage2', 'last_checkpoint')
        ckpt = (_read(last) if osp.isfile(osp.join(work, 'student.pth'))
                and osp.isfile(last) else None)
    return ckpt if ckpt and osp.isfile(ckpt) else None


def test_result(root, student, seed, name):
    """The metrics of the run's test on the test root ``name``, or None."""
    try:
        return summarize.latest_test_log(
            osp.join(run_dir(root, student, seed), f'test_{name}'))[0]
    except FileNotFoundError:
        return None


def find_students(root):
    """Students (in ``STUDENTS`` order) with a run dir under ``root``."""
    return [s for s in STUDENTS if find_seeds(root, [s])]


def find_seeds(root, students):
    """Seeds of the run dirs under ``root`` of any of ``students``."""
    seeds = set()
    for student in students:
        for path in glob.glob(osp.join(root, f'{student}_s*')):
            match = re.fullmatch(rf'{student}_s(\d+)', osp.basename(path))
            if match:
                seeds.add(int(match.group(1)))
    return sorted(seeds)


# ---------------------------------------------------------------- commands
def data_options(split, test_root, profile=KITTI):
    """cfg-options that evaluate ``split`` ('val' / 'test') on the val
    frames of ``test_root``: its data root and its evaluator file (KITTI:
    the infos; Waymo: the front camera's ground-truth ``.bin``)."""
    root = test_root.rstrip('/') + '/'
    key, name = profile.evaluator_file
    return [f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_evaluator.{key}={root}{name}']


def val_options(args):
    """cfg-options of the trainings that validate: every ``--eval-every``
    epochs, on the test root's val frames, metrics logged by iteration."""
    return [f'train_cfg.val_interval={args.eval_every}',
            'default_hooks.logger.log_metric_by_epoch=False'] + data_options(
                'val', args.test_root, PROFILES[args.dataset])


def depth_pretrained_options(args, student):
    """cfg-options that initialise the student's depth network from
    ``--depth-pretrained`` (the same checkpoint for every student; the
    two-stage students pass it to both stages, stage 2 then loads stage 1's
    image branch over it)."""
    if not args.depth_pretrained:
        return []
    key = ('model.img_backbone.pretrained' if student == 'alone' else
           'model.student.img_backbone.pretrained')
    return [f'{key}={args.depth_pretrained}']


def train_command(args, student, seed):
    """(argv, extra environment) of the training of one run."""
    work = run_dir(args.work_dir, student, seed)
    seed_opts = ([f'randomness.seed={seed}']
                 + depth_pretrained_options(args, student)
                 + list(args.extra_cfg_options))
    if student in ONE_RUN:
        resume = (['--resume'] if osp.isfile(osp.join(work, 'last_checkpoint'))
                  else [])
        config, teacher = args.student_config, []
        if student in ONE_STAGE:
            config = getattr(args, ONE_STAGE[student])
            teacher = [f'model.teacher_ckpt={args.teacher_ckpt}']
        return (['mim', 'train', 'cmkd_mmdet3d', config,
                 '--work-dir', work] + resume
                + ['--cfg-options'] + teacher + seed_opts
                + val_options(args)), {}
    stage1, stage2 = ((args.stage1, args.stage2) if student == 'cmkd' else
                      (args.semi_stage1, args.semi_stage2))
    env = dict(STAGE2_CFG_OPTIONS=' '.join(val_options(args)),
               PYTHON=sys.executable)
    if args.extra_cfg_options:
        # the script's own evaluation of the distilled student loads its
        # checkpoint into the model the extra options describe
        env['TEST_CFG_OPTIONS'] = ' '.join(args.extra_cfg_options)
    return (['bash', osp.join(TOOLS, 'cmkd_two_stage.sh'), args.teacher_ckpt,
             stage1, stage2, work, '--cfg-options'] + seed_opts), env


def test_command(args, student, seed, ckpt):
    root = args.test_root.rstrip('/') + '/'
    config = dict(alone=args.student_config, cmkd=args.stage2,
                  cmkd_semi=args.semi_stage2,
                  cmkd_1stage=args.onestage,
                  cmkd_1stage_semi=args.onestage_semi)[student]
    out = osp.join(run_dir(args.work_dir, student, seed),
                   f'test_{test_name(root)}')
    # the extra options reach the test too: a model change (grid, stride)
    # must hold when the checkpoint is loaded, or it would load into the
    # config's unchanged model with warnings only
    return ['mim', 'test', 'cmkd_mmdet3d', config, '--checkpoint', ckpt,
            '--work-dir', out, '--cfg-options'] + list(
                args.extra_cfg_options) + data_options(
                    'test', root, PROFILES[args.dataset])


def show(argv, env=None):
    prefix = ''.join(f'{k}={shlex.quote(v)} ' for k, v in
                     sorted((env or {}).items()) if k != 'PYTHON')
    return prefix + ' '.join(shlex.quote(a) for a in argv)


def _execute(argv, env):
    print(f'$ {show(argv, env)}', flush=True)
    full = dict(os.environ, **env)
    # mim of this interpreter's environment first
    full['PATH'] = osp.dirname(sys.executable) + os.pathsep + full.get(
        'PATH', '')
    subprocess.run(argv, env=full, check=True)


def run_one(args, student, seed, dry_run):
    """Train (or resume) and test one run unless it is finished."""
    name = test_name(args.test_root)
    root, work = args.work_dir, run_dir(args.work_dir, student, seed)
    ckpt = final_checkpoint(root, student, seed)
    if ckpt and test_result(root, student, seed, name) is not None:
        print(f'== {student} seed {seed}: done, skipped')
        return
    print(f'== {student} seed {seed}: {work}', flush=True)
    if ckpt is None:
        argv, env = train_command(args, student, seed)
        if dry_run:
            print(show(argv, env))
        else:
            _execute(argv, env)
            if student in ONE_RUN:
                with atomic_io.atomic_open(osp.join(work, 'train_done.json'),
                                           'w') as f:
                    json.dump(dict(checkpoint=_read(
                        osp.join(work, 'last_checkpoint'))), f)
            ckpt = final_checkpoint(root, student, seed)
            if ckpt is None:
                raise RuntimeError(f'{work}: no final checkpoint after '
                                   'training')
    if ckpt is None:   # dry run of a training still to do
        sub = '' if student in ONE_RUN else 'stage2/'
        ckpt = f'<{work}/{sub}last_checkpoint>'
    argv = test_command(args, student, seed, ckpt)
    if dry_run:
        print(show(argv))
    else:
        _execute(argv, {})


# ---------------------------------------------------------------- report
def build_report(root, students, seeds, test_root, eval_every=None,
                 profile=KITTI):
    """benchmark.json's content from the run dirs under ``root``."""
    name = test_name(test_root)
    runs = {}
    for student in students:
        runs[student] = {}
        for seed in seeds:
            metrics = test_result(root, student, seed, name)
            if metrics is None:
                continue
            curve, steps = run_log(root, student, seed, profile)
            runs[student][str(seed)] = dict(
                final=short_metrics(metrics, profile), steps=steps,
                curve=[dict(step=step, **m) for step, m in curve])
    return report_from_runs(runs, seeds, test_root, name, eval_every,
                            profile)


def report_from_runs(runs, seeds, test_root, name, eval_every=None,
                     profile=KITTI):
    """benchmark.json's content from ``runs``: student -> seed (str) ->
    {final: {metric: value}, steps: iterations, curve: [{step, metric:
    value, ...}, ...]}, the students in ``runs``' order."""
    students = list(runs)
    final = {s: {seed: run['final'] for seed, run in runs[s].items()}
             for s in students}
    curves = {}
    for student in students:
        points = {seed: [(p['step'], p) for p in run['curve']]
                  for seed, run in runs[student].items()}
        curves[student] = {key: curve_stats(points, key)
                           for key in profile.metrics}
    pairs = {f'{b}_vs_{a}': compare_students(final, a, b, profile)
             for a, b in PAIRS if a in students and b in students}
    return dict(
        dataset=profile.name, unit=profile.unit,
        test_root=test_root, test_name=name, eval_every=eval_every,
        students=students, seeds=[int(s) for s in seeds],
        # the training iterations the runs took (one value when equal)
        steps={s: sorted({r['steps'] for r in runs[s].values()})
               for s in students},
        rule='second ahead in every seed and mean gain > 2 * max(std of '
        'the first, std of the second), metrics '
        + ', '.join(profile.rule_metrics),
        runs=runs,
        summary={s: summarize_runs(final[s], profile) for s in students},
        curves=curves, pairs=pairs)


def merge_reports(reports, students=None, seeds=None):
    """One report from the runs of several benchmark.json contents, e.g.
    seeds or students run in different work dirs (or committed ones).

    ``reports`` is a list of (path, content); they must share the dataset
    and the test root's name. A student / seed present in two of them must
    have the same runs there. ``students`` (default: every student found, in
    the tool's order) and ``seeds`` (default: every seed found) select.
    Summary, curves and pairs are computed again from the runs;
    ``eval_every`` is kept where all agree (None otherwise).
    """
    if not reports:
        raise ValueError('no report to merge')
    path0, first = reports[0]
    for path, report in reports[1:]:
        for key in ('dataset', 'test_name'):
            if report.get(key) != first.get(key):
                raise ValueError(
                    f'{path}: {key} {report.get(key)!r}, but {path0} has '
                    f'{first.get(key)!r}: not the same benchmark')
    runs, origin = {}, {}
    for path, report in reports:
        for student, by_seed in report['runs'].items():
            if student not in STUDENTS:
                raise ValueError(f'{path}: unknown student {student!r}')
            runs.setdefault(student, {})
            for seed, run in by_seed.items():
                have = runs[student].get(seed)
                if have is not None and have != run:
                    raise ValueError(
                        f'{student} seed {seed} differs between '
                        f'{origin[student, seed]} and {path}')
                runs[student][seed] = run
                origin[student, seed] = path
    found = sorted({int(s) for by_seed in runs.values() for s in by_seed})
    seeds = found if seeds is None else sorted(seeds)
    keep = [s for s in STUDENTS if s in runs
            and (students is None or s in students)]
    runs = {s: {seed: run for seed, run in
                sorted(runs[s].items(), key=lambda kv: int(kv[0]))
                if int(seed) in seeds} for s in keep}
    every = {r.get('eval_every') for _, r in reports}
    return report_from_runs(
        runs, seeds, first['test_root'], first['test_name'],
        every.pop() if len(every) == 1 else None,
        PROFILES[first['dataset']])


def plot_metrics(report, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    profile = PROFILES[report.get('dataset', 'kitti')]
    table = profile.table
    students = [s for s in report['students'] if report['summary'].get(s)]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(len(students), 1)
    for i, student in enumerate(students):
        summary = report['summary'][student]
        means = [summary[k]['mean'] if k in summary else float('nan')
                 for k, _ in table]
        stds = [(summary[k]['std'] or 0.0) if k in summary else 0.0
                for k, _ in table]
        xs = [j + (i - (len(students) - 1) / 2) * width
              for j in range(len(table))]
        ax.bar(xs, means, width, yerr=stds, capsize=3,
               label=f'{LABELS[student]} (n={len(report["runs"][student])})')
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels([n for _, n in table], rotation=20, ha='right',
                       fontsize=8)
    ax.set_ylabel(f'{profile.unit} (mean +- std over seeds)')
    ax.set_title(f'test root {report["test_name"]}')
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_curves(report, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    profile = PROFILES[report.get('dataset', 'kitti')]
    panels = profile.curve_panels
    fig, axes = plt.subplots(1, len(panels), figsize=(11, 4.2))
    for ax, (key, name) in zip(axes, panels):
        for student in report['students']:
            curve = report['curves'].get(student, {}).get(key, [])
            if not curve:
                continue
            steps = [p['step'] for p in curve]
            means = [p['mean'] for p in curve]
            stds = [p['std'] or 0.0 for p in curve]
            line, = ax.plot(steps, means, marker='o', label=LABELS[student])
            ax.fill_between(steps, [m - s for m, s in zip(means, stds)],
                            [m + s for m, s in zip(means, stds)],
                            color=line.get_color(), alpha=0.2)
        ax.set_xlabel('global training step (iteration)')
        ax.set_ylabel(f'{name}, {profile.unit}')
        ax.set_title(f'{name} (mean +- std over seeds)', fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path):
    import matplotlib.pyplot as plt
    with atomic_io.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def write_report(report, root):
    """benchmark.json, benchmark_metrics.png, benchmark_curves.png."""
    with atomic_io.atomic_open(osp.join(root, 'benchmark.json'), 'w') as f:
        json.dump(report, f, indent=1)
    plot_metrics(report, osp.join(root, 'benchmark_metrics.png'))
    plot_curves(report, osp.join(root, 'benchmark_curves.png'))


# ---------------------------------------------------------------- main
def _config_missing(args, student):
    """None when ``args`` hold the configs ``student`` trains with, else
    the options that would give them (cmkd_semi: both semi stages; the
    one-stage students: their config)."""
    if student == 'cmkd_semi' and not (args.semi_stage1
                                       and args.semi_stage2):
        return '--semi-stage1 and --semi-stage2'
    if student in ONE_STAGE and not getattr(args, ONE_STAGE[student]):
        return '--' + ONE_STAGE[student].replace('_', '-')
    return None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--teacher-ckpt',
                        help='LiDAR teacher checkpoint (CMKD students)')
    parser.add_argument('--work-dir', required=True,
                        help='root of the run dirs and of the outputs')
    parser.add_argument('--seeds', nargs='+', type=int,
                        help='seeds (with --report-only: default every '
                        'seed found)')
    parser.add_argument('--dataset', choices=sorted(PROFILES),
                        default='kitti',
                        help='the world: its configs, test root and metric '
                        '(kitti: KITTI AP40; waymo: WaymoAPMetric, the '
                        'Waymo environment of `make waymo-env`)')
    parser.add_argument('--students', nargs='+', choices=STUDENTS,
                        help='default: alone, cmkd and cmkd_semi where '
                        'the dataset has configs for them (waymo: alone '
                        'cmkd); cmkd_1stage and cmkd_1stage_semi only '
                        'when named; with --report-only: those with run '
                        'dirs in --work-dir (of the ones the dataset has '
                        'configs for)')
    parser.add_argument('--test-root',
                        help='data root evaluated on (its val infos; '
                        'default data/synthetic_<dataset>/), also for the '
                        'validations')
    parser.add_argument('--eval-every', type=int, default=2, metavar='K',
                        help='validate every K epochs (default 2)')
    for name in DEFAULTS:
        parser.add_argument('--' + name.replace('_', '-'),
                            help='default: the dataset\'s synthetic config')
    parser.add_argument('--depth-pretrained', metavar='CKPT',
                        help='checkpoint of the depth pre-training '
                        '(cmkd-mono3d_r18-aspp-lid40_depth-pretrain_...) '
                        'that initialises every student\'s depth network')
    parser.add_argument('--extra-cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='cfg-options of every training')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands, run nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='rebuild the outputs from the run dirs')
    parser.add_argument('--merge', nargs='+', metavar='JSON',
                        help='build the outputs in --work-dir from the runs '
                        'of these benchmark.json files (other work dirs, '
                        'or those committed under docs/benchmarks/), '
                        'training and testing nothing; --students and '
                        '--seeds select (default: all found)')
    args = parser.parse_args(argv)
    args.students_given = args.students is not None
    if args.merge:
        args.report_only = True
    profile = PROFILES[args.dataset]
    for name, default in profile.defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    args.test_root = args.test_root or profile.test_root
    if args.students is None:
        configured = [s for s in STUDENTS if _config_missing(args, s) is None]
        # a report of a work dir: the students that ran there
        found = (find_students(args.work_dir)
                 if args.report_only and not args.merge else [])
        args.students = ([s for s in found if s in configured]
                         or [s for s in DEFAULT_STUDENTS if s in configured])
    for student in args.students:
        missing = _config_missing(args, student)
        if missing:
            parser.error(f'--dataset {args.dataset} has no config'
                         f'{"s" * (student == "cmkd_semi")} for {student}: '
                         f'give {missing}')
    if args.eval_every < 1:
        parser.error('--eval-every must be >= 1')
    if not args.report_only:
        if not args.seeds:
            parser.error('--seeds is required (except with --report-only)')
        if set(args.students) - {'alone'} and not args.teacher_ckpt:
            parser.error('--teacher-ckpt is required for the CMKD students')
    return args


def main(argv=None):
    args = parse_args(argv)
    students = [s for s in STUDENTS if s in args.students]
    if args.merge:
        reports = []
        for path in args.merge:
            if not osp.isfile(path):
                sys.exit(f'--merge: {path} not found')
            with open(path) as f:
                reports.append((path, json.load(f)))
        try:
            report = merge_reports(
                reports, students if args.students_given else None,
                args.seeds)
        except ValueError as err:
            sys.exit(f'--merge: {err}')
        os.makedirs(args.work_dir, exist_ok=True)
        _write_and_print(report, args.work_dir,
                         f'from {" ".join(args.merge)}')
        return
    if not args.report_only:
        if args.depth_pretrained and not args.dry_run and \
                not osp.isfile(args.depth_pretrained):
            sys.exit(f'--depth-pretrained {args.depth_pretrained} not found')
        if not args.dry_run:
            if (set(students) - {'alone'}
                    and not osp.isfile(args.teacher_ckpt)):
                sys.exit(f'teacher checkpoint {args.teacher_ckpt} not found')
            infos = osp.join(args.test_root,
                             PROFILES[args.dataset].val_infos)
            if not osp.isfile(infos):
                sys.exit(f'no {infos} (--test-root)')
        for seed in args.seeds:
            for student in students:
                run_one(args, student, seed, args.dry_run)
        if args.dry_run:
            return
    seeds = args.seeds or find_seeds(args.work_dir, students)
    report = build_report(args.work_dir, students, seeds, args.test_root,
                          None if args.report_only else args.eval_every,
                          PROFILES[args.dataset])
    _write_and_print(report, args.work_dir, f'evaluated on {args.test_root}')


def _write_and_print(report, root, source):
    """The outputs in ``root``, then their seeds, ``source`` and table."""
    write_report(report, root)
    print(f'\nseeds {" ".join(map(str, report["seeds"]))} {source}; '
          f'{osp.join(root, "benchmark.json")}')
    print(markdown_table(report))


if __name__ == '__main__':
    main()

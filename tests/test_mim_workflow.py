"""`mim run / train / test / search cmkd_mmdet3d`, from outside the repo, on
data the test generates. Uses the *installed* plugin (``make test`` installs
it first)."""
import glob
import os

import pytest

from conftest import REPO_ROOT, run, venv_bin

CFG = 'pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py'


@pytest.fixture(scope='module')
def mim(tmp_path_factory):
    exe = venv_bin('mim')
    if exe is None:
        pytest.skip('openmim is not installed (run `make test`)')
    probe = run([exe, 'search', 'cmkd_mmdet3d'],
                cwd=str(tmp_path_factory.mktemp('probe')), timeout=300)
    if probe.returncode != 0:
        pytest.fail('mim cannot see the installed plugin:\n' +
                    probe.stdout[-2000:] + probe.stderr[-2000:])
    return exe


def test_mim_search_lists_every_metafile_model(mim, tmp_path):
    import yaml
    proc = run([mim, 'search', 'cmkd_mmdet3d'], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(os.path.join(REPO_ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    names = []
    for meta in imports:
        with open(os.path.join(REPO_ROOT, meta)) as f:
            names += [m['Name'] for m in yaml.safe_load(f)['Models']]
    assert names
    flat = proc.stdout.replace('\n', '')
    for name in names:
        # mim prints a table that may wrap long names; compare without
        # whitespace
        assert name.replace(' ', '') in flat.replace(' ', ''), name


def test_mim_run_train_test_round_trip(mim, tmp_path):
    cwd = str(tmp_path)   # outside the repository
    data = os.path.join('data', 'synthetic_kitti')
    proc = run([mim, 'run', 'cmkd_mmdet3d', 'create_data', 'synthetic-kitti',
                '--out', data, '--num-train', '4', '--num-val', '2',
                '--seed', '3'], cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert os.path.exists(os.path.join(cwd, data, 'kitti_infos_val.pkl'))

    small = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2',
             'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0',
             'val_dataloader.persistent_workers=False',
             'test_dataloader.num_workers=0',
             'test_dataloader.persistent_workers=False']
    proc = run([mim, 'train', 'cmkd_mmdet3d', CFG, '--work-dir', 'w',
                '--cfg-options'] + small, cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ckpt = os.path.join(cwd, 'w', 'epoch_1.pth')
    assert os.path.exists(ckpt)

    proc = run([mim, 'test', 'cmkd_mmdet3d', CFG, '--checkpoint', ckpt,
                '--work-dir', 't', '--cfg-options'] + small[4:], cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Car AP40@0.70, 0.70, 0.70' in out      # KittiMetric ran on CPU
    assert 'Loads checkpoint by local_safe backend' in out
    pics = glob.glob(os.path.join(cwd, 't', '*', 'vis', 'test', '*.png'))
    assert len(pics) == 2, pics

    # --show-dir draws every sample, without a display
    proc = run([mim, 'test', 'cmkd_mmdet3d', CFG, '--checkpoint', ckpt,
                '--work-dir', 't2', '--show-dir', 'pics', '--score-thr', '0.2',
                '--cfg-options'] + small[4:], cwd=cwd)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    pics = glob.glob(os.path.join(cwd, 't2', '*', 'pics', 'test', '*.png'))
    assert sorted(os.path.basename(p) for p in pics) == [
        '000004.png', '000005.png']

    # resume the finished run for one more epoch
    proc = run([mim, 'train', 'cmkd_mmdet3d', CFG, '--work-dir', 'w',
                '--resume', '--cfg-options'] + ['train_cfg.max_epochs=2'] +
               small[1:], cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'resumed epoch: 1' in out
    assert os.path.exists(os.path.join(cwd, 'w', 'epoch_2.pth'))


def test_dist_train_two_cpu_processes(synthetic_world, tmp_path):
    """tools/dist_train.sh: 2 processes on CPU (gloo), one short epoch."""
    import sys
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'synthetic_kitti')
    cfg = os.path.join(REPO_ROOT, 'configs', 'teachers', 'pointpillars', CFG)
    env = dict(os.environ, PYTHON=sys.executable, PORT='29731',
               OMP_NUM_THREADS='1')
    proc = run(['bash', os.path.join(REPO_ROOT, 'tools', 'dist_train.sh'),
                cfg, '2', '--work-dir', 'w', '--cfg-options',
                'train_cfg.max_epochs=1', 'train_dataloader.batch_size=1',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False'],
               cwd=str(tmp_path), env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out
    # 4 training frames, 2 processes, 1 sample each: 2 iterations per epoch
    assert 'Epoch(train) [1][2/2]' in out
    assert os.path.exists(tmp_path / 'w' / 'epoch_1.pth')


STUDENT_CFG = ('cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
               'synkitti-3d-3class.py')


def test_mim_train_student_only_trains_and_evaluates(mim, synthetic_world,
                                                     tmp_path):
    """The camera student alone: `mim train` with validation on CPU."""
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'synthetic_kitti')
    proc = run([mim, 'train', 'cmkd_mmdet3d', STUDENT_CFG, '--work-dir', 'w',
                '--cfg-options', 'train_cfg.max_epochs=1',
                'train_cfg.val_interval=1',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False',
                'val_dataloader.num_workers=0',
                'val_dataloader.persistent_workers=False'],
               cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Epoch(train) [1][2/2]' in out and 'loss_depth' in out
    assert 'Car AP40@0.70, 0.70, 0.70' in out        # KittiMetric ran
    assert os.path.exists(tmp_path / 'w' / 'epoch_1.pth')
    pics = glob.glob(str(tmp_path / 'w' / '*' / 'vis' / 'val_epoch*' /
                         '*.png'))
    assert len(pics) == 2, pics
    import cv2
    # camera image (375 rows at full width) above the BEV panel
    h, w = cv2.imread(pics[0]).shape[:2]
    assert w == 1242 and h > 375 + 500, (h, w)


STAGE1_CFG = ('cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-'
              '4e_synkitti-3d-3class.py')
STAGE2_CFG = ('cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-'
              'onecycle-4e_synkitti-3d-3class.py')
SMALL = ['train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0',
         'val_dataloader.persistent_workers=False']


def _random_teacher(path):
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    import torch
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    cfg = Config.fromfile(os.path.join(
        REPO_ROOT, 'configs', 'teachers', 'pointpillars', CFG))
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), path)


def test_mim_two_stage_distillation_and_resume_after_kill(
        mim, synthetic_world, tmp_path):
    """Stage 1 and stage 2 with one `mim train` each; stage 2 is killed
    after its first checkpoint and `--resume` finishes it."""
    import signal
    import subprocess
    import time
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'synthetic_kitti')
    teacher = str(tmp_path / 'teacher.pth')
    _random_teacher(teacher)
    cwd = str(tmp_path)

    # stage 1 has no head, hence no validation
    proc = run([mim, 'train', 'cmkd_mmdet3d', STAGE1_CFG, '--work-dir', 's1',
                '--cfg-options', f'model.teacher_ckpt={teacher}',
                'train_cfg.max_epochs=1'] + SMALL[:2], cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'teacher loaded strictly' in out and 'distill.loss_bev' in out
    stage1 = str(tmp_path / 's1' / 'epoch_1.pth')
    assert os.path.exists(stage1)

    # stage 2 without its stage-1 checkpoint: a clear error
    proc = run([mim, 'train', 'cmkd_mmdet3d', STAGE2_CFG, '--work-dir', 'bad',
                '--cfg-options', f'model.teacher_ckpt={teacher}',
                'train_cfg.max_epochs=1'] + SMALL, cwd=cwd)
    assert proc.returncode != 0
    assert 'stage 2 needs the stage-1 checkpoint' in proc.stdout + proc.stderr

    args = [mim, 'train', 'cmkd_mmdet3d', STAGE2_CFG, '--work-dir', 's2',
            '--cfg-options', f'model.teacher_ckpt={teacher}',
            f'model.stage1_ckpt={stage1}', 'train_cfg.max_epochs=3'] + SMALL
    log = open(tmp_path / 's2.log', 'w')
    child = subprocess.Popen(args, cwd=cwd, stdout=log, stderr=log,
                             start_new_session=True)
    last = tmp_path / 's2' / 'last_checkpoint'
    deadline = time.time() + 600
    while not last.exists() and child.poll() is None and \
            time.time() < deadline:
        time.sleep(0.5)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    log.close()
    assert last.exists(), open(tmp_path / 's2.log').read()[-3000:]
    assert not os.path.exists(tmp_path / 's2' / 'epoch_3.pth')

    proc = run(args[:4] + ['--resume'] + args[4:], cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'resumed epoch: ' in out
    assert 'distill.loss_resp_cls' in out
    assert os.path.exists(tmp_path / 's2' / 'epoch_3.pth')
    assert 'Car AP40@0.70, 0.70, 0.70' in out          # the student alone


def test_dist_train_distillation_two_cpu_processes(synthetic_world,
                                                   tmp_path):
    """Stage 1 with 2 processes on CPU (gloo), one short epoch."""
    import sys
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'synthetic_kitti')
    teacher = str(tmp_path / 'teacher.pth')
    _random_teacher(teacher)
    cfg = os.path.join(REPO_ROOT, 'configs', 'cmkd', STAGE1_CFG)
    env = dict(os.environ, PYTHON=sys.executable, PORT='29733',
               OMP_NUM_THREADS='1')
    proc = run(['bash', os.path.join(REPO_ROOT, 'tools', 'dist_train.sh'),
                cfg, '2', '--work-dir', 'w', '--cfg-options',
                f'model.teacher_ckpt={teacher}', 'train_cfg.max_epochs=1',
                'train_dataloader.batch_size=1'] + SMALL[:2],
               cwd=str(tmp_path), env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Distributed training: True' in out
    assert 'Epoch(train) [1][2/2]' in out and 'distill.loss_bev' in out
    assert os.path.exists(tmp_path / 'w' / 'epoch_1.pth')


SEMI1_CFG = ('cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-'
             '4e_synkitti-eigen-3d-3class.py')
PSEUDO_CFG = ('cmkd_bev-pseudo_pointpillars-pillar032_r18-aspp-lid40_1xb4-'
              'onecycle-4e_synkitti-eigen-3d-3class.py')


def test_mim_semi_supervised_pseudo_labels_export_import(
        mim, synthetic_world, tmp_path):
    """Stage 1 on labeled + raw frames, then the offline pseudo-label stage
    2: the hook labels every raw frame before training, the student trains
    on them and is evaluated; the cache exports to KITTI label files and
    imports back into infos with the CLI."""
    import sys
    import mmengine
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'synthetic_kitti')
    teacher = str(tmp_path / 'teacher.pth')
    _random_teacher(teacher)
    cwd = str(tmp_path)
    proc = run([mim, 'train', 'cmkd_mmdet3d', SEMI1_CFG, '--work-dir', 's1',
                '--cfg-options', f'model.teacher_ckpt={teacher}',
                'train_cfg.max_epochs=1'] + SMALL[:2], cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # 4 labeled frames, 2 + 2 raw frames per batch: 2 batches
    assert 'Epoch(train) [1][2/2]' in out
    stage1 = str(tmp_path / 's1' / 'epoch_1.pth')
    # a random teacher scores about 0.01: let its boxes through
    proc = run([mim, 'train', 'cmkd_mmdet3d', PSEUDO_CFG, '--work-dir', 's2',
                '--cfg-options', f'model.teacher_ckpt={teacher}',
                f'model.stage1_ckpt={stage1}', 'train_cfg.max_epochs=1',
                'model.teacher.test_cfg.score_thr=0.005',
                'custom_hooks.0.score_thr=0.005'] + SMALL, cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'PseudoLabelHook: version' in out
    assert 'student.loss_cls' in out and 'distill.loss_bev' in out
    assert 'Car AP40@0.70, 0.70, 0.70' in out
    latest = tmp_path / 's2' / 'pseudo_labels' / 'latest.pkl'
    from cmkd_mmdet3d.datasets import load_pseudo_labels
    cache = load_pseudo_labels(str(latest))
    assert len(cache['frames']) == 3
    assert sum(len(e['labels_3d']) for e in cache['frames'].values()) > 0
    for e in cache['frames'].values():
        assert (e['scores_3d'] >= 0.005).all()

    tool = os.path.join(REPO_ROOT, 'tools', 'misc', 'pseudo_labels.py')
    infos = os.path.join(synthetic_world, 'raw',
                         'kitti_infos_eigen_clean.pkl')
    proc = run([sys.executable, tool, 'export', '--cache', str(latest),
                '--infos', infos, '--out-dir', 'labels'], cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '3 label files' in proc.stdout
    proc = run([sys.executable, tool, 'import', '--label-dir', 'labels',
                '--infos', infos, '--out', 'pseudo.pkl'], cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    back = mmengine.load(str(tmp_path / 'pseudo.pkl'))
    n = {d['frame_id']: len(d['instances']) for d in back['data_list']}
    assert n == {k: len(e['labels_3d']) for k, e in cache['frames'].items()}


# the KITTI recipe itself (the reference's yaml configs) for the two
# sparse-conv teacher families, pointed at the synthetic world (KITTI layout),
# ResNet-18 instead of the COCO-initialised ResNet-50 (no download in tests),
# 2 frames
KITTI_STAGES = {
    'second-res-c64': (
        'cmkd_bev_second-res-c64_r50-aspp-lid120_2xb4-onecycle-60e_kitti-3d-'
        '3class.py',
        'cmkd_bev-resp_second-res-c64_r50-aspp-lid120_2xb4-onecycle-20e_'
        'kitti-3d-3class.py'),
    'centerpoint-res': (
        'cmkd_bev_centerpoint-res_r50-aspp-lid120-head-center_2xb4-onecycle-'
        '60e_kitti-3d-3class.py',
        'cmkd_bev-resp_centerpoint-res_r50-aspp-lid120-head-center_2xb4-'
        'onecycle-20e_kitti-3d-3class.py'),
}
R18 = ['model.student.img_backbone.backbone.depth=18',
       'model.student.img_backbone.backbone.init_cfg=None',
       'model.student.img_backbone.feat_in_channels=256',
       'model.student.img_backbone.deep_in_channels=512']


@pytest.mark.parametrize('family', sorted(KITTI_STAGES))
def test_mim_kitti_recipe_with_sparse_conv_teachers(mim, synthetic_world,
                                                    tmp_path, family):
    """Stage 1 then stage 2 of the KITTI configs, one `mim train` each, with
    a SECOND / CenterPoint teacher (spconv forward on CPU); a teacher
    checkpoint of another family is refused by name."""
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    from mmengine.config import Config
    import torch
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    from cmkd_mmdet3d.models.detectors.teacher_utils import model_cfg_from
    stage1_cfg, stage2_cfg = KITTI_STAGES[family]
    cfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', 'cmkd',
                                       stage1_cfg))
    torch.manual_seed(0)
    teacher = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=MODELS.build(
        model_cfg_from(cfg.model.teacher)).state_dict()), teacher)
    os.makedirs(tmp_path / 'data')
    os.symlink(synthetic_world, tmp_path / 'data' / 'kitti')
    cwd = str(tmp_path)
    common = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
              'train_dataloader.batch_size=1',
              'train_dataloader.dataset.indices=2',
              'default_hooks.logger.interval=1'] + SMALL[:2] + R18

    proc = run([mim, 'train', 'cmkd_mmdet3d', stage1_cfg, '--work-dir', 's1',
                '--cfg-options', f'model.teacher_ckpt={teacher}'] + common,
               cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'teacher loaded strictly' in out and 'distill.loss_bev' in out
    assert 'student.loss_depth' in out                  # KITTI-only: depth
    stage1 = str(tmp_path / 's1' / 'epoch_1.pth')

    proc = run([mim, 'train', 'cmkd_mmdet3d', stage2_cfg, '--work-dir', 's2',
                '--cfg-options', f'model.teacher_ckpt={teacher}',
                f'model.stage1_ckpt={stage1}'] + common, cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    resp = ('distill.task0.loss_resp_heatmap' if family.startswith('center')
            else 'distill.loss_resp_cls')
    assert resp in out and 'distill.loss_bev' in out
    assert os.path.exists(tmp_path / 's2' / 'epoch_1.pth')

    # the other sparse family's teacher checkpoint: refused, with its keys
    other = [f for f in KITTI_STAGES if f != family][0]
    ocfg = Config.fromfile(os.path.join(REPO_ROOT, 'configs', 'cmkd',
                                        KITTI_STAGES[other][0]))
    wrong = str(tmp_path / 'wrong.pth')
    torch.save(dict(state_dict=MODELS.build(
        model_cfg_from(ocfg.model.teacher)).state_dict()), wrong)
    proc = run([mim, 'train', 'cmkd_mmdet3d', stage1_cfg, '--work-dir', 'bad',
                '--cfg-options', f'model.teacher_ckpt={wrong}'] + common,
               cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert wrong in out and 'teacher' in out


NUS_TEACHER_CFG = ('centerpoint_pillar08_second_secfpn_head-circlenms_1xb4-'
                   'cyclic-4e_synnus-3d.py')
NUS_STUDENT_CFG = ('cmkd-mono3d_r18-aspp-lid40-6cam_pillar08-secfpn_head-'
                   'center_1xb2-cyclic-8e_synnus-3d.py')
NUS_CMKD_CFG = ('cmkd_bev-resp_centerpoint-pillar08_r18-aspp-lid40-6cam_'
                '1xb2-cyclic-8e_synnus-3d.py')


def test_mim_nuscenes_teacher_on_the_synthetic_world(mim, tmp_path):
    """The synthetic nuScenes world made with `mim run ... create_data
    synthetic-nuscenes`, the CPU CenterPoint teacher trained one short
    epoch with `mim train` (CBGS over 4 frames) and evaluated with `mim
    test`: NuScenesMetric runs the devkit's evaluation on CPU; then the
    surround-view student and CMKD-MV with that teacher, `mim train` and
    `mim test`."""
    cwd = str(tmp_path)
    proc = run([mim, 'run', 'cmkd_mmdet3d', 'create_data',
                'synthetic-nuscenes', '--out', 'data/synthetic_nus',
                '--num-scenes', '3', '--num-val-scenes', '1',
                '--samples-per-scene', '2', '--seed', '1', '--img-height',
                '90', '--img-width', '160', '--sweeps', '2', '--beams', '16',
                '--azimuth-step', '0.66', '--workers', '1'], cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    small = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2',
             'train_dataloader.dataset.dataset.indices=4'] + SMALL + [
             'test_dataloader.num_workers=0',
             'test_dataloader.persistent_workers=False']
    proc = run([mim, 'train', 'cmkd_mmdet3d', NUS_TEACHER_CFG, '--work-dir',
                'w', '--cfg-options'] + small, cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'task5.loss_heatmap' in out
    ckpt = os.path.join(cwd, 'w', 'epoch_1.pth')
    assert os.path.exists(ckpt)
    proc = run([mim, 'test', 'cmkd_mmdet3d', NUS_TEACHER_CFG, '--checkpoint',
                ckpt, '--work-dir', 't', '--cfg-options'] + small[3:],
               cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'NuScenes metric/pred_instances_3d_NuScenes/NDS' in out
    assert 'mAOE' in out
    # the surround-view student alone and CMKD-MV with this teacher, one
    # step each (the 4 frames once, RepeatDataset in place of CBGS), then
    # `mim test` of the distilled student: NuScenesMetric on its predictions
    student = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
               'train_dataloader.dataset.type=RepeatDataset',
               'train_dataloader.dataset.times=1',
               'train_dataloader.dataset.dataset.indices=4'] + SMALL + [
               'test_dataloader.num_workers=0',
               'test_dataloader.persistent_workers=False']
    proc = run([mim, 'train', 'cmkd_mmdet3d', NUS_STUDENT_CFG, '--work-dir',
                's', '--cfg-options'] + student, cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'loss_depth' in out and 'task5.loss_heatmap' in out
    proc = run([mim, 'train', 'cmkd_mmdet3d', NUS_CMKD_CFG, '--work-dir',
                'c', '--cfg-options', f'model.teacher_ckpt={ckpt}'] + student,
               cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'distill.loss_bev' in out
    assert 'distill.task5.loss_resp_bbox' in out
    proc = run([mim, 'test', 'cmkd_mmdet3d', NUS_CMKD_CFG, '--checkpoint',
                os.path.join(cwd, 'c', 'epoch_1.pth'), '--work-dir', 'ct',
                '--cfg-options', f'model.teacher_ckpt={ckpt}'] + student[5:],
               cwd=cwd)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'NuScenes metric/pred_instances_3d_NuScenes/NDS' in out

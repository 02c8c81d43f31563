"""The plugin registers itself through a config's custom_imports, and its
configs inherit mmdet3d's bases with ``mmdet3d::``."""
import os
import subprocess
import sys
import textwrap

from mmengine.config import Config

from conftest import REPO_ROOT

TEACHER_CFG = os.path.join(
    REPO_ROOT, 'configs', 'teachers', 'pointpillars',
    'pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')


def test_custom_imports_register_the_plugin():
    """In a fresh interpreter, nothing of the plugin is registered until a
    config that lists it in custom_imports is parsed."""
    script = textwrap.dedent(f'''
        import sys
        from mmdet3d.registry import HOOKS
        from mmdet3d.utils import register_all_modules
        register_all_modules(init_default_scope=True)
        assert HOOKS.get('PredictionVisHook') is None
        assert 'cmkd_mmdet3d' not in sys.modules
        from mmengine.config import Config
        cfg = Config.fromfile({TEACHER_CFG!r})
        assert cfg.custom_imports.imports == ['cmkd_mmdet3d']
        assert 'cmkd_mmdet3d' in sys.modules
        hook = HOOKS.build(dict(type='PredictionVisHook', max_samples=2))
        print(type(hook).__module__, hook.max_samples)
    ''')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'cmkd_mmdet3d.engine.hooks.prediction_vis_hook 2' in proc.stdout


def test_version_and_shims_applied():
    import cmkd_mmdet3d
    from mmengine.runner.checkpoint import CheckpointLoader
    assert cmkd_mmdet3d.__version__.count('.') == 2
    assert CheckpointLoader._get_checkpoint_loader('/x/y.pth') is \
        cmkd_mmdet3d.compat.load_from_local_safe


def test_config_inherits_mmdet3d_bases_and_builds():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(TEACHER_CFG)
    assert cfg.default_scope == 'mmdet3d'       # from default_runtime.py
    assert cfg.model.type == 'VoxelNet'          # from the pointpillars base
    assert cfg.train_dataloader.dataset.type == 'KittiDataset'
    model = MODELS.build(cfg.model)
    assert model.middle_encoder.nx == 140 and model.middle_encoder.ny == 188
    assert cfg.val_evaluator.type == 'KittiMetric'


def test_config_basenames_are_unique():
    names = {}
    for dirpath, _, files in os.walk(os.path.join(REPO_ROOT, 'configs')):
        for f in files:
            if f.endswith('.py'):
                assert f not in names, f'{f} in {dirpath} and {names[f]}'
                names[f] = dirpath


def test_student_modules_are_registered():
    from mmdet3d.registry import MODELS, TRANSFORMS
    import cmkd_mmdet3d  # noqa: F401
    for name in ('CMKDMono3D', 'DepthDistributionNet', 'DepthLiftNeck',
                 'CMKDAnchor3DHead', 'DepthFocalLoss'):
        assert MODELS.get(name) is not None, name
    for name in ('FOVFilterPoints', 'LoadDepthMap', 'ImageSpaceFlip3D',
                 'MakeDepthTarget', 'ScaleImage3D', 'PackCMKDInputs',
                 'BEVDetImageAug3D'):
        assert TRANSFORMS.get(name) is not None, name


def test_student_configs_build_with_the_teacher_grid():
    """Both student configs build; their BEV maps have the synthetic
    PointPillars teacher's (C, Y, X) and their head its anchors."""
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    folder = os.path.join(REPO_ROOT, 'configs', 'cmkd_mono3d')
    teacher = Config.fromfile(TEACHER_CFG)
    for name, bev in (('cmkd-mono3d_r50-aspp-lid120_secfpn_2xb4-onecycle-'
                       '60e_kitti-3d-3class.py', (128, 188, 140)),
                      ('cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-'
                       'onecycle-8e_synkitti-3d-3class.py', (64, 188, 140))):
        cfg = Config.fromfile(os.path.join(folder, name))
        model = MODELS.build(cfg.model)
        assert model.lift_neck.bev_shape == bev, name
        assert model.bbox_head.dir_offset == 0.78539
        assert model.bbox_head.dir_limit_offset == 0
        assert cfg.model.test_cfg.nms_thr == 0.01
        assert cfg.model.test_cfg.max_num == 500
        if 'synkitti' in name:
            t = teacher.model
            assert cfg.model.bbox_head.anchor_generator == \
                t.bbox_head.anchor_generator
            assert model.lift_neck.grid_size[:2] == tuple(
                reversed(t.middle_encoder.output_shape))
            assert cfg.model.backbone.in_channels == \
                t.backbone.in_channels == bev[0]

"""Test helpers shared by several test files."""
import os

from mmengine.config import Config
from conftest import REPO_ROOT


def _registry():
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import cmkd_mmdet3d  # noqa: F401
    return MODELS


STUDENT_CFG = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


def _cfg(path):
    from mmengine.config import Config
    _registry()
    return Config.fromfile(path)


def _build(path, **model_kw):
    MODELS = _registry()
    cfg = _cfg(path)
    cfg.model.update(model_kw)
    return MODELS.build(cfg.model)


STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_'
    'synkitti-3d-3class.py')


STAGE1 = os.path.join(
    REPO_ROOT, 'configs', 'cmkd',
    'cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-'
    '4e_synkitti-3d-3class.py')


KITTI = [
    'pointpillars/pointpillars_hv-scatterconv_secfpn_8xb8-80e_kitti-3d-3class.py',  # noqa: E501
    'second/second_res-c64_secfpn_head-iouqfl_8xb8-80e_kitti-3d-3class.py',
    'centerpoint/centerpoint_res_secfpn_head-1task_8xb8-80e_kitti-3d-3class.py',  # noqa: E501
]


TEACHERS = os.path.join(REPO_ROOT, 'configs', 'teachers')


SYN = {
    'pointpillars': 'pointpillars/pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
    'second': 'second/second_res-c64_secfpn_head-iouqfl_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
    'centerpoint': 'centerpoint/centerpoint_res_secfpn_head-1task_1xb4-cyclic-12e_synkitti-3d-3class.py',  # noqa: E501
}


def build(rel):
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(os.path.join(TEACHERS, rel))
    return cfg, MODELS.build(cfg.model)


def student_test_cfg(data_root=None):
    """The synthetic student's config with every box kept (score_thr 0,
    at most 20): random weights score below the config's threshold."""
    cfg = _cfg(STUDENT)
    cfg.model.test_cfg.score_thr = 0.0
    cfg.model.test_cfg.max_num = 20
    if data_root:
        cfg.test_dataloader.dataset.data_root = data_root.rstrip('/') + '/'
    return cfg


def save_random_student(out_dir):
    """A random synthetic student (seed 0) saved as a student checkpoint
    and as a CMKD checkpoint (``student.*`` + ``teacher.*`` keys).

    Returns:
        tuple: (model, student checkpoint path, CMKD checkpoint path).
    """
    import torch
    MODELS = _registry()
    torch.manual_seed(0)
    model = MODELS.build(student_test_cfg().model)
    meta = dict(dataset_meta=dict(classes=['Pedestrian', 'Cyclist', 'Car']))
    student = os.path.join(str(out_dir), 'student.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=meta), student)
    cmkd = os.path.join(str(out_dir), 'cmkd.pth')
    state = {f'student.{k}': v for k, v in model.state_dict().items()}
    state['teacher.backbone.weight'] = torch.zeros(3)
    torch.save(dict(state_dict=state, meta=meta), cmkd)
    return model, student, cmkd


def calibrate_batch_norm(model, data_root, dataset=None):
    """Running statistics of every BN layer from the val frames (or the
    frames of ``dataset``, a dataset config), so that the
    random student's activations (and scores) have a spread: with the
    initial statistics they shrink layer by layer and every score lies
    within 1e-3 of 0.5, where a 1e-7 difference between two backends
    reorders ties. The variances are floored at 0.03: two frames give some
    channels a variance near 0, and dividing by it amplifies float32
    rounding (a trained student does not do that: 2e-5 on the synthetic
    val frames, README)."""
    import torch
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate

    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None       # cumulative average
    ds = DATASETS.build(dataset or
                        student_test_cfg(data_root).test_dataloader.dataset)
    model.train()
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate(list(ds)), False)
        model(**data, mode='tensor')
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_var.clamp_(min=0.03)


def save_calibrated_student(out_dir, data_root, dataset=None):
    """:func:`save_random_student` with BN statistics from the val frames of
    ``data_root`` or the frames of ``dataset``, a dataset config
    (:func:`calibrate_batch_norm`): scores with a spread, so
    that two paths through the same student (Runner and inferencer,
    PyTorch and onnxruntime) keep the same boxes.

    Returns:
        tuple: (model in eval mode, student checkpoint path).
    """
    import torch
    model, student, _ = save_random_student(out_dir)
    calibrate_batch_norm(model, data_root, dataset)
    ckpt = torch.load(student, weights_only=False)
    ckpt['state_dict'] = model.state_dict()
    torch.save(ckpt, student)
    return model, student


SURROUND_STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r18-aspp-lid40-6cam_pillar08-secfpn_head-center_1xb2-'
    'cyclic-8e_synnus-3d.py')
SURROUND_CMKD = os.path.join(
    REPO_ROOT, 'configs', 'cmkd',
    'cmkd_bev-resp_centerpoint-pillar08_r18-aspp-lid40-6cam_1xb2-cyclic-8e_'
    'synnus-3d.py')


def surround_batch(cfg, root, indices, ann_file='nuscenes_infos_train.pkl',
                   pipeline=None, scale=None):
    """A collated batch of the surround-view configs' train dataset (the
    NuScenesDataset inside CBGS) on another data root."""
    import copy
    from mmdet3d.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    _registry()
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset.dataset)
    ds_cfg.data_root = root.rstrip('/') + '/'
    ds_cfg.ann_file = ann_file
    if pipeline is not None:
        ds_cfg.pipeline = copy.deepcopy(pipeline)
    for t in ds_cfg.pipeline:
        if t['type'] == 'ScaleImage3D' and scale is not None:
            t['scale'] = scale
    ds = DATASETS.build(ds_cfg)
    return pseudo_collate([ds[i] for i in indices])


NUS_STUDENT = os.path.join(
    REPO_ROOT, 'configs', 'cmkd_mono3d',
    'cmkd-mono3d_r50-aspp-ud59-6cam_second-secfpn_head-center_8xb4-'
    'cyclic-24e_nus-3d.py')
NUS_CMKD = os.path.join(
    REPO_ROOT, 'configs', 'cmkd',
    'cmkd_bev-resp_centerpoint-voxel01_r50-aspp-ud59-6cam_8xb4-cyclic-24e_'
    'nus-3d.py')


def nuscenes_sample_with_six_images(tmp_path):
    """mmdet3d's real nuScenes sample frame (LiDAR, sweeps, calibration and
    boxes of nus_info.pkl) copied, with the one camera image the sample
    ships (CAM_BACK_LEFT of another frame, 1600 x 900) standing in for the
    five it lacks; None without the samples."""
    import shutil
    from conftest import SHARED_SAMPLES
    from cmkd_mmdet3d.utils.safe_pickle import load_pickle_file
    src = os.path.join(SHARED_SAMPLES, 'nuscenes')
    if not os.path.exists(os.path.join(src, 'nus_info.pkl')):
        return None
    root = tmp_path / 'nuscenes'
    shutil.copytree(src, root)
    info = load_pickle_file(str(root / 'nus_info.pkl'))['data_list'][0]
    shipped = next((root / 'samples' / 'CAM_BACK_LEFT').iterdir())
    for cam, item in info['images'].items():
        dst = root / 'samples' / cam / item['img_path']
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shipped, dst)
    return str(root)


WAYMO_CMKD = os.path.join(
    REPO_ROOT, 'configs', 'cmkd',
    'cmkd_bev-resp_pointpillars-scatterconv_r50-aspp-lid120_2xb4-onecycle-'
    '6e_waymoD5-fov-3d-3class.py')
WAYMO_CMKD_SECOND = os.path.join(
    REPO_ROOT, 'configs', 'cmkd',
    'cmkd_bev-resp_second-res-c64_r50-aspp-lid120_2xb4-onecycle-'
    '6e_waymoD5-fov-3d-3class.py')


def waymo_sample(tmp_path):
    """mmdet3d's real Waymo sample (kitti_format: front-camera image, 6-feature
    LiDAR, calibration and boxes of waymo_infos_val.pkl) copied, its info's
    image names pointed at the shipped .png files (the info says .jpg);
    None without the samples."""
    import shutil

    import mmengine
    from conftest import SHARED_SAMPLES
    from cmkd_mmdet3d.utils.safe_pickle import load_pickle_file
    src = os.path.join(SHARED_SAMPLES, 'waymo', 'kitti_format')
    if not os.path.exists(os.path.join(src, 'waymo_infos_val.pkl')):
        return None
    root = tmp_path / 'waymo'
    shutil.copytree(src, root)
    infos = load_pickle_file(str(root / 'waymo_infos_val.pkl'))
    for info in infos['data_list']:
        for cam in info['images'].values():
            cam['img_path'] = cam['img_path'].replace('.jpg', '.png')
    mmengine.dump(infos, str(root / 'waymo_infos_val.pkl'))
    return str(root)

# The camera student alone, without distillation ("CaDDN-R50" in the CMKD
# repository): the no-KD baseline and the model that the CMKD distiller
# trains. KITTI train -> val, 2 GPUs x 4 images, one-cycle AdamW, 60 epochs.
_base_ = [
    '../_base_/models/cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py',
    '../_base_/datasets/kitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw-60e.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3))
custom_hooks = [dict(type='PredictionVisHook', max_samples=8, score_thr=0.3)]

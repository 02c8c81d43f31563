# The camera student alone on Waymo's front camera (the no-KD baseline and
# the model the CMKD Waymo distillers train): the KITTI R50 student on the
# Waymo grid, CAM_FRONT at 960 x 640, one frame in five, 2 GPUs x 4 images,
# one-cycle AdamW peak 2e-3, 12 epochs; evaluated with WaymoAPMetric (the
# monocular protocol; make waymo-env). Not trained here (no GPU).
_base_ = [
    '../_base_/models/cmkd-mono3d_r50-aspp-lid120_secfpn_waymo.py',
    '../_base_/datasets/waymo-fov-image-3class.py',
    '../_base_/schedules/onecycle-adamw.py',
    '../_base_/cmkd_runtime_kitti.py'
]

train_cfg = dict(max_epochs=12, val_interval=12)

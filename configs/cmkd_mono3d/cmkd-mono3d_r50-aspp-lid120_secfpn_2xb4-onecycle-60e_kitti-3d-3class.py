# The camera student alone, without distillation ("CaDDN-R50" in the CMKD
# repository): the no-KD baseline and the model that the CMKD distiller
# trains. KITTI train -> val, 2 GPUs x 4 images, one-cycle AdamW peak 2e-3,
# 60 epochs.
_base_ = [
    '../_base_/models/cmkd-mono3d_r50-aspp-lid120_secfpn_kitti.py',
    '../_base_/datasets/kitti-image-3class.py',
    '../_base_/schedules/onecycle-adamw.py',
    '../_base_/cmkd_runtime_kitti.py'
]

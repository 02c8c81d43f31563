# CMKD-MV's nuScenes teacher (Cc-Hy/CMKD-MV, `CMKD_LIDAR`): mmdet3d's
# CenterPoint with 0.1 m voxels over [-51.2, 51.2] x [-51.2, 51.2] x [-5, 3] m
# and 10-sweep points (x, y, z, intensity, time lag): SparseEncoder, SECOND,
# SECONDFPN and a 6-task CenterHead with circle NMS, exactly as mmdet3d 1.4
# ships it. CMKD-MV starts from mmdet3d's model-zoo checkpoint of this config
# (the `Weights` of metafile.yml; mmdet3d's own metafile reports nuScenes val
# mAP 56.11 / NDS 64.61, not measured here), frozen; give its path as the
# distiller's `teacher_ckpt` (downloaded once by you: nothing here
# downloads). The map the student imitates is the middle encoder's output:
# 256 channels (128 x 2 heights) on 128 x 128 cells of 0.8 m, the cells of
# the surround-view student's BEV grid.
_base_ = [
    'mmdet3d::centerpoint/'
    'centerpoint_voxel01_second_secfpn_head-circlenms_8xb4-cyclic-20e_'
    'nus-3d.py'
]
# the plugin's shims (checkpoints that torch >= 2.6 loads safely, CPU
# evaluation) also for `mim test cmkd_mmdet3d` of the model-zoo teacher
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

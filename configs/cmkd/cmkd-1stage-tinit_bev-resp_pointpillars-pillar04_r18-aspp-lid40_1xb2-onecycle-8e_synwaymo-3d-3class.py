# CMKD in one stage on the synthetic Waymo world (CPU): the recipe of the
# synthetic KITTI demo's distilled student
# (cmkd-1stage-tinit_..._synkitti-3d-3class.py) on the Waymo front camera.
# Stage 2's losses (BEV + response + depth + ground truth), the student's BEV
# backbone / neck / head initialised from the teacher's, for all 8 epochs,
# without stage 1: the same 640 steps as the student alone and as the two
# stages (4 + 4 epochs). Not the reference's recipe; the real-Waymo configs
# keep its two stages.
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth
_base_ = ['./cmkd_bev-resp_pointpillars-pillar04_r18-aspp-lid40_1xb2-onecycle-4e_synwaymo-3d-3class.py']

model = dict(with_stage1=False)
train_cfg = dict(max_epochs=8, val_interval=8)

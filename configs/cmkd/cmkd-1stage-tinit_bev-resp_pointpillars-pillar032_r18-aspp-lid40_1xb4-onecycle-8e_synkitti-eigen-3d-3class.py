# CMKD in one stage with unlabeled frames on the synthetic world (CPU): the
# demo's distilled student (cmkd-1stage-tinit ... 1xb2 ... synkitti: the BEV
# backbone / neck / head from the teacher, no stage 1, 8 epochs of BEV +
# response + depth + ground-truth losses) with online soft targets on raw
# frames, as the synkitti-eigen stage 2 (the released code's V2,
# Cc-Hy/CMKD:tools/cfgs/kitti_models/CMKD/CMKD-pp/cmkd_kitti_eigen_R50_pp_V2.yaml):
# every batch holds 2 labeled + 2 unlabeled raw frames, so the steps (640) and
# the labeled frames' schedule are those of the labeled-only one-stage leaf,
# the raw frames come on top. The world needs raw frames
# (`create_data.py synthetic-kitti --num-unlabeled 160`).
# Not the reference's recipe (two stages); the KITTI configs keep it.
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth
_base_ = ['./cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-4e_synkitti-eigen-3d-3class.py']

model = dict(with_stage1=False)
train_cfg = dict(max_epochs=8, val_interval=8)

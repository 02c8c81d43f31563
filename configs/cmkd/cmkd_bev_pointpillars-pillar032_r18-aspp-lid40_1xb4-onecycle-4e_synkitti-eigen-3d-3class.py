# CMKD stage 1 with unlabeled frames, synthetic world (CPU): as the 4-epoch
# synkitti stage 1, but every batch holds 2 labeled train frames + 2
# unlabeled raw frames (MixedBatchSampler); an epoch is still one pass over
# the 160 labeled frames, so the labeled frames' schedule and the number of
# steps (320) equal the labeled-only stage 1, and the raw frames come on top.
#
#   python tools/create_data.py synthetic-kitti --out data/synthetic_kitti \
#       --num-train 160 --num-val 40 --num-unlabeled 160
#   mim train cmkd_mmdet3d <this config> \
#       --cfg-options model.teacher_ckpt=work_dirs/<teacher>/epoch_12.pth
_base_ = [
    '../_base_/models/cmkd_pointpillars-pillar032_r18-aspp-lid40_synkitti.py',
    '../_base_/cmkd-stage1_synkitti-eigen.py'
]

model = dict(student=dict(backbone=None, neck=None, bbox_head=None),
             with_response=False)

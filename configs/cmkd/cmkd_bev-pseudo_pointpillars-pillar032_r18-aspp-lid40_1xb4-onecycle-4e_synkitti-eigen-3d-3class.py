# CMKD stage 2 with offline pseudo-labels (the paper's semi-supervised method,
# CMKD, Hong et al. ECCV 2022),
# synthetic world (CPU): before training, PseudoLabelHook runs the frozen
# teacher over the 160 unlabeled raw frames and writes its boxes (score >=
# 0.1 per class, the reference's threshold) into a versioned cache in the
# work dir and into the raw dataset. The student then trains on ground truth
# (labeled frames) and pseudo-labels (raw frames) with the score-weighted,
# IoU-aware anchor head, plus the BEV and depth losses; no online response
# distillation. 4 epochs of 2 labeled + 2 raw frames per batch = 320 steps,
# as the other synthetic stage-2 configs.
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth \
#       model.stage1_ckpt=<stage 1>/epoch_4.pth
_base_ = [
    './cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-4e_'
    'synkitti-eigen-3d-3class.py'
]

# the score-weighted, IoU-aware head of _base_/models/cmkd_losses.py
model = dict(
    student=dict(bbox_head=_base_.pseudo_label_head),
    with_response=False,
    with_gt_loss=True)

custom_hooks = [
    _base_.pseudo_label_hook,
    dict(type='PredictionVisHook', max_samples=6, score_thr=0.2,
         draw_val=True)
]

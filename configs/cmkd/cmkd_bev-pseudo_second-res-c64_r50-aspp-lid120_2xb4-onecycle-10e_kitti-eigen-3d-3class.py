# CMKD stage 2 with offline pseudo-labels (the paper's semi-supervised method,
# CMKD, Hong et al. ECCV 2022)
# on KITTI train + eigen-clean KITTI raw: before training PseudoLabelHook
# runs the frozen SECOND teacher over the raw frames (its post-processing:
# score > 0.1, NMS 0.01; then score >= 0.1 per class), caches the boxes in
# <work_dir>/pseudo_labels/ and hands them to the raw dataset. The student
# learns KITTI ground truth and the pseudo-labels through the IoU-aware,
# score-weighted anchor head (V1 weights: cls 4.0, box 2.0, direction 0.2;
# 10 epochs, peak lr 1e-4), plus the BEV loss; no online response loss.
#
#   mim train cmkd_mmdet3d <this config> --gpus 2 --launcher pytorch \
#       --cfg-options model.teacher_ckpt=<teacher>.pth \
#       model.stage1_ckpt=<stage 1 (kitti-eigen)>/epoch_30.pth
_base_ = [
    './cmkd_bev-resp_second-res-c64_r50-aspp-lid120_2xb4-onecycle-10e_'
    'kitti-eigen-3d-3class.py'
]

# the score-weighted, IoU-aware head of _base_/models/cmkd_losses.py with
# the V1 class loss weight
model = dict(
    student=dict(bbox_head=dict(
        _base_.pseudo_label_head,
        loss_cls=dict(_base_.pseudo_label_head.loss_cls, loss_weight=4.0))),
    with_response=False,
    with_gt_loss=True)

# peak lr 1e-4 (V1), same one-cycle shape
optim_wrapper = dict(optimizer=dict(lr=0.00001))

custom_hooks = [
    dict(_base_.pseudo_label_hook, batch_size=4, num_workers=4)
]

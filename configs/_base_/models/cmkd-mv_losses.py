# CMKD-MV's distillation losses (Cc-Hy/CMKD-MV: configs/cmkd/
# cmkd-bevdet-r50-10sweep.py and mmdet3d/models/detectors/bevdet.py), for
# the surround-view distillers; one stage, with the student's ground-truth
# losses:
# * BEV features: MSE x 50 between the student's SCNet output and the
#   teacher's middle-encoder map;
# * responses, per task: the quality focal loss of the student's heatmap
#   against the teacher's probabilities, divided by the batch's count of
#   teacher probabilities >= 0.5, x 0.2; SmoothL1 of each regression head
#   (reg, height, dim, rot, vel) against the teacher's, weighted by the
#   teacher's confidence at every cell, averaged over all cells, x 50.
# CMKD-MV computes the QFL modulating factor on the student's logits and
# the confidence as sigmoid(sum of the task's logits); the correct forms
# are the default here; the reference's are
#   loss_resp_heatmap=dict(..., modulate_on_logits=True)
#   loss_resp_bbox=dict(..., teacher_weight='sigmoid_of_sum').
cmkd_mv_head_losses = dict(
    loss_resp_heatmap=dict(
        type='SoftHeatmapLoss', pos_thr=0.5, normalizer='batch',
        loss_weight=0.2),
    loss_resp_bbox=dict(
        type='SoftCenterRegressionLoss', pos_thr=None, loss_weight=50.0),
    resp_bbox_per_head=True)
cmkd_mv_distiller = dict(
    type='CMKD',
    loss_bev=dict(type='BEVFeatureDistillLoss', loss_weight=50.0),
    with_response=True,
    with_gt_loss=True,
    teacher_ckpt=None)          # --cfg-options model.teacher_ckpt=...

# CMKD's response losses of the anchor-head students (stage 2), as the
# reference's *_V2 configs (Cc-Hy/CMKD: tools/cfgs/kitti_models/CMKD/
# CMKD-{pp,scd}/cmkd_kitti_R50_{pp,scd}_V2.yaml, through
# AnchorHeadSingleCMKD_V2): the quality focal loss of the student's class
# logits against the teacher's probabilities, the teacher's boxes and
# direction classes as targets weighted by its confidence. The reference
# sums the class loss over its 4 samples per GPU, so its weight is the
# reference's times 4.
# PointPillars teacher: cls 1.0 x 4, box 2.0, direction 0.2.
cmkd_resp_losses_pp = dict(
    loss_resp_cls=dict(type='SoftQualityFocalLoss', loss_weight=4.0),
    loss_resp_bbox=dict(type='SoftBoxRegressionLoss', loss_weight=2.0),
    loss_resp_dir=dict(type='SoftDirectionLoss', loss_weight=0.2))
# SECOND teacher: cls 2.0 x 4, box 2.0, direction 0.4.
cmkd_resp_losses_scd = dict(
    loss_resp_cls=dict(type='SoftQualityFocalLoss', loss_weight=8.0),
    loss_resp_bbox=dict(type='SoftBoxRegressionLoss', loss_weight=2.0),
    loss_resp_dir=dict(type='SoftDirectionLoss', loss_weight=0.4))
# Offline pseudo-labels (the paper's semi-supervised method; the reference's
# V1 configs, through AnchorHeadSingleQFL): the teacher's boxes on the
# unlabeled frames become targets of the score-weighted, IoU-aware anchor
# head, whose class loss is the quality focal loss (weight 1.0 here; the
# KITTI config sets the V1 weight 4.0). PseudoLabelHook writes them before
# training, at the reference's score threshold 0.1 per class.
pseudo_label_head = dict(
    type='ScoreWeightedAnchor3DHead',
    loss_cls=dict(
        _delete_=True,
        type='mmdet.QualityFocalLoss',
        use_sigmoid=True,
        beta=2.0,
        loss_weight=1.0))
pseudo_label_hook = dict(
    type='PseudoLabelHook',
    score_thr=dict(Pedestrian=0.1, Cyclist=0.1, Car=0.1),
    interval=0)

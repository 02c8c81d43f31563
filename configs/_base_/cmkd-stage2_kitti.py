# CMKD stage 2 on KITTI train (labels unused), with any teacher family
# (models/cmkd_<teacher>_..._kitti.py): the data and runtime of the R50
# student, 20 epochs of one-cycle AdamW peak 2e-4 (the reference's
# cmkd_kitti_R50_*_V2.yaml), the
# points of every sample for the teacher; evaluated on the student alone.
_base_ = [
    './datasets/kitti-image-3class.py',
    './schedules/onecycle-adamw.py',
    './cmkd_runtime_kitti.py'
]

optim_wrapper = dict(optimizer=dict(lr=0.00002))
train_cfg = dict(max_epochs=20, val_interval=20)
# the student's pipeline plus the LiDAR points of the same sample
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.distill_train_pipeline}}))

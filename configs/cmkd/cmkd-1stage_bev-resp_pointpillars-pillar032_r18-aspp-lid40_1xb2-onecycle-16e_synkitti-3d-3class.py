# CMKD in one stage on the synthetic world (CPU): stage 2's losses (BEV,
# response, depth and ground truth, the weights of the stage-2 config) on the
# student from scratch, 16 epochs, without stage 1 and without initialising
# the student's BEV backbone / neck / head from the teacher. Not the
# reference's recipe (two stages, the second from the teacher's head): on the
# synthetic world at 1280 CPU steps the two stages of 8 epochs each fell
# behind the student alone of 16 epochs, this one did not (README,
# "Longer schedules").
#
#   mim train cmkd_mmdet3d <this config> --cfg-options \
#       model.teacher_ckpt=<teacher>/epoch_12.pth
_base_ = ['./cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py']

model = dict(init_bev_from_teacher=False)
train_cfg = dict(max_epochs=16, val_interval=16)

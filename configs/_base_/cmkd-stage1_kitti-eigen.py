# cmkd-stage1_kitti.py on KITTI train (labels unused) + the unlabeled
# eigen-clean KITTI raw frames (about 18.6k frames; eigen_train_dataset of
# datasets/kitti-image-3class.py), 30 epochs, the reference's
# cmkd_kitti_eigen_R50_*_bev.yaml. No depth maps
# for the raw frames: the configs drop the depth loss.
_base_ = ['./cmkd-stage1_kitti.py']

train_cfg = dict(max_epochs=30, val_interval=30)
train_dataloader = dict(
    dataset=dict(_base_.eigen_train_dataset, _delete_=True))

# cmkd-stage2_kitti.py on KITTI train (labels unused) + the unlabeled
# eigen-clean KITTI raw frames (about 18.6k frames; eigen_train_dataset of
# datasets/kitti-image-3class.py), 10 epochs, the reference's
# cmkd_kitti_eigen_R50_*_V2.yaml. No depth maps
# for the raw frames: the configs drop the depth loss.
_base_ = ['./cmkd-stage2_kitti.py']

train_cfg = dict(max_epochs=10, val_interval=10)
train_dataloader = dict(
    dataset=dict(_base_.eigen_train_dataset, _delete_=True))

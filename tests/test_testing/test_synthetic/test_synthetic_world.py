"""The whole generated synthetic KITTI world (cmkd_mmdet3d.testing.synthetic),
end to end through mmdet3d's KittiDataset."""
import numpy as np


def test_infos_load_through_kitti_dataset(synthetic_world):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    ds = DATASETS.build(dict(
        type='KittiDataset', data_root=synthetic_world + '/',
        ann_file='kitti_infos_train.pkl',
        data_prefix=dict(pts='training/velodyne_reduced',
                         img='training/image_2'),
        modality=dict(use_lidar=True, use_camera=True),
        pipeline=[
            dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
                 use_dim=4),
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations3D', with_bbox_3d=True,
                 with_label_3d=True),
            dict(type='Pack3DDetInputs',
                 keys=['points', 'img', 'gt_bboxes_3d', 'gt_labels_3d'])
        ],
        metainfo=dict(classes=['Pedestrian', 'Cyclist', 'Car'])))
    assert len(ds) == 4
    sample = ds[0]
    assert sample['inputs']['img'].shape == (3, 375, 1242)
    pts = sample['inputs']['points']          # (N, 4) tensor
    boxes = sample['data_samples'].gt_instances_3d.bboxes_3d
    assert len(boxes) >= 1 and len(pts) > 1000
    # the reduced cloud is the camera field of view: every point projects
    # into the image
    l2i = np.array(sample['data_samples'].metainfo['lidar2img'])
    uvw = np.c_[pts[:, :3].numpy(), np.ones(len(pts))] @ l2i[:3].T
    uv = uvw[:, :2] / uvw[:, 2:]
    assert (uvw[:, 2] > 0).all()
    assert (uv[:, 0] > -1).all() and (uv[:, 0] < 1243).all()
    # some points lie in labelled boxes
    from mmdet3d.structures.ops import box_np_ops
    in_box = box_np_ops.points_in_rbbox(pts[:, :3].numpy(),
                                        boxes.tensor.numpy()).any(1)
    assert in_box.sum() > 20

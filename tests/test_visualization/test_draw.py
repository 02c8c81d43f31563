"""cmkd_mmdet3d.visualization.draw: boxes in bird's eye view and on images."""
import numpy as np
import torch


def _corners(center, lwh, yaw=0.0):
    from mmdet3d.structures import LiDARInstance3DBoxes
    box = torch.tensor([[*center, *lwh, yaw]], dtype=torch.float32)
    return LiDARInstance3DBoxes(box, origin=(0.5, 0.5, 0.5)).corners.numpy()


def test_draw_bev_puts_points_and_box_edges_at_their_metres():
    from cmkd_mmdet3d.visualization import draw_bev
    red = (0, 0, 255)
    # a 4 m x 4 m box centred 12 m ahead: its back edge is at x = 10 m
    box = _corners((12.0, 0.0, -1.0), (4.0, 4.0, 1.5))
    pts = np.array([[20.0, 10.0, 0.0, 1.0], [-5.0, 0.0, 0.0, 1.0]])
    bev = draw_bev(pts, [(box, red)], (0.0, 50.0), (-30.0, 30.0), 0.1)
    # x up (500 rows for 50 m), y to the left (600 columns for 60 m)
    assert bev.shape == (500, 600, 3) and bev.dtype == np.uint8
    # x = 20 m -> row (50 - 20) / 0.1, y = 10 m -> column (30 - 10) / 0.1
    assert tuple(bev[300, 200]) == (200, 200, 200)
    # x = 10 m -> row 400; y in [-2, 2] m -> columns 280 ... 320
    assert tuple(bev[400, 300]) == red
    assert tuple(bev[400, 285]) == red
    # inside the box and far from it: no box colour
    assert tuple(bev[380, 300]) != red
    assert not (bev[:300] == red).all(-1).any()
    # a point behind the sensor (x < 0) is off the picture, not wrapped
    assert (bev == 200).all(-1).sum() == 1


def test_boxes_on_image_skip_boxes_behind_the_camera():
    from cmkd_mmdet3d.visualization import draw_boxes_on_image
    # a camera looking along LiDAR +x: u = 100 + 100 * (-y / x),
    # v = 50 + 100 * (-z / x)
    lidar2img = np.array([[100.0, -100.0, 0.0, 0.0],
                          [50.0, 0.0, -100.0, 0.0],
                          [1.0, 0.0, 0.0, 0.0],
                          [0.0, 0.0, 0.0, 1.0]])
    behind = _corners((-10.0, 0.0, 0.0), (2.0, 2.0, 2.0))
    img = np.zeros((100, 200, 3), np.uint8)
    draw_boxes_on_image(img, behind, lidar2img, (0, 255, 0))
    assert not img.any()
    # 10 m ahead, 2 m wide: columns 90 ... 110, rows 40 ... 60
    ahead = _corners((11.0, 0.0, 0.0), (2.0, 2.0, 2.0))
    draw_boxes_on_image(img, ahead, lidar2img, (0, 255, 0))
    drawn = np.argwhere(img[..., 1] > 0)
    assert len(drawn) > 0
    rows, cols = drawn[:, 0], drawn[:, 1]
    assert 36 <= rows.min() and rows.max() <= 64
    assert 86 <= cols.min() and cols.max() <= 114
    assert (img[..., 0] == 0).all()

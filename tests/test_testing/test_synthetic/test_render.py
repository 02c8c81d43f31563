"""cmkd_mmdet3d.testing.synthetic.render: the camera image and its instance
buffer."""
import numpy as np

from cmkd_mmdet3d.testing.synthetic import calibration_for_date
from cmkd_mmdet3d.testing.synthetic.geometry import box_corners_cam, project
from cmkd_mmdet3d.testing.synthetic.render import (render_scene,
                                                   solid_masks_area)
from cmkd_mmdet3d.testing.synthetic.scene import sample_scene


def test_instance_buffer_lies_in_the_projected_boxes():
    """A solid's pixels lie in the 2D box of its projected 3D box, and
    occlusion only removes pixels from its unoccluded mask."""
    calib = calibration_for_date('2011_09_26')
    h, w = 375, 1242
    scene = sample_scene(np.random.default_rng(2))
    image, ids = render_scene(scene, calib, (h, w), seed=2)
    assert image.shape == (h, w, 3) and image.dtype == np.uint8
    assert ids.shape == (h, w)
    assert ids.min() >= -1 and ids.max() < len(scene.solids)
    assert (ids == -1).any() and (ids >= 0).any()
    visible = np.bincount(ids[ids >= 0], minlength=len(scene.solids))
    full = solid_masks_area(scene, calib, (h, w))
    checked = 0
    for i, solid in enumerate(scene.solids):
        assert visible[i] <= full[i] + 2, i
        corners = box_corners_cam(solid.loc, solid.dims, solid.ry)
        if visible[i] == 0 or (corners[:, 2] < 1.0).any():
            continue
        uv = project(corners, calib.P2)[:, :2]
        rows, cols = np.nonzero(ids == i)
        assert cols.min() >= uv[:, 0].min() - 1.5
        assert cols.max() <= uv[:, 0].max() + 1.5
        assert rows.min() >= uv[:, 1].min() - 1.5
        assert rows.max() <= uv[:, 1].max() + 1.5
        checked += 1
    assert checked >= 3

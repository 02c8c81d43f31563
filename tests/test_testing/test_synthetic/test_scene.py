"""cmkd_mmdet3d.testing.synthetic.scene: random scenes of cuboid parts."""
import numpy as np

from cmkd_mmdet3d.testing.synthetic.geometry import box_corners_cam
from cmkd_mmdet3d.testing.synthetic.scene import CLASSES, sample_scene


def test_solids_stand_on_the_ground_and_enclose_their_parts():
    scene = sample_scene(np.random.default_rng(3), num_objects=(6, 6),
                         ground_height=2.0)
    again = sample_scene(np.random.default_rng(3), num_objects=(6, 6),
                         ground_height=2.0)
    assert [s.loc.tolist() for s in scene.solids] == [
        s.loc.tolist() for s in again.solids]
    labelled = [s for s in scene.solids if s.cls is not None]
    assert 1 <= len(labelled) <= 6
    assert len(scene.solids) > len(labelled)       # distractors too
    assert scene.ground_y(0.0, 0.0) == 2.0
    for i, solid in enumerate(scene.solids):
        x, y, z = solid.loc
        # bottom centre on the (sloped) ground
        assert abs(y - (2.0 + scene.ground_slope[0] * x
                        + scene.ground_slope[1] * z)) < 1e-9
        assert x * x + z * z >= 9.0                 # not on the sensors
        if solid.cls is not None:
            assert solid.cls in CLASSES
            assert 4.0 <= z <= 62.0 and abs(x) < z * 0.84 + 2.0
        # every corner of every part inside the solid's (labelled) box
        c, s = np.cos(solid.ry), np.sin(solid.ry)
        rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        l, h, w = solid.dims
        assert solid.parts
        for part in solid.parts:
            assert part.owner == i
            bottom = part.center + np.array([0, part.dims[1] / 2, 0])
            local = (box_corners_cam(bottom, part.dims, part.ry)
                     - solid.loc) @ rot
            eps = 1e-6
            assert (np.abs(local[:, 0]) <= l / 2 + eps).all()
            assert (np.abs(local[:, 2]) <= w / 2 + eps).all()
            assert (local[:, 1] <= eps).all() and (
                local[:, 1] >= -h - eps).all()

"""The sensor-rig seam of the synthetic world: the renderer, the labeller
and the LiDAR simulator take their sensors from a ``SensorRig``; the KITTI
writer refuses rigs that its layouts cannot hold."""
import json
from dataclasses import replace

import numpy as np
import pytest

from cmkd_mmdet3d.testing.synthetic import (KITTI_CAM2, KITTI_HDL64E,
                                            KITTI_IMG_SHAPE, KITTI_RIG,
                                            CameraSpec, calibration_for_date,
                                            generate_world, make_frame)
from cmkd_mmdet3d.testing.synthetic.frame import box_label
from cmkd_mmdet3d.testing.synthetic.geometry import (CALIB_DATES,
                                                     CAMERA_HEIGHT,
                                                     box_corners_cam)
from cmkd_mmdet3d.testing.synthetic.lidar import beam_directions
from cmkd_mmdet3d.testing.synthetic.render import (render_scene,
                                                   solid_masks_area)

SMALL = (96, 320)
CAL = calibration_for_date('2011_09_26')


def test_kitti_rig_is_the_kitti_platform():
    assert KITTI_RIG.cameras == (KITTI_CAM2, )
    assert KITTI_CAM2.projection == 'P2'
    assert KITTI_CAM2.img_shape == KITTI_IMG_SHAPE == (375, 1242)
    assert KITTI_RIG.lidar.num_beams == 64
    assert KITTI_RIG.calib_dates == CALIB_DATES
    assert KITTI_RIG.ground_height == CAMERA_HEIGHT
    assert KITTI_RIG.calibration_for_date is calibration_for_date
    with pytest.raises(Exception):  # frozen
        KITTI_RIG.name = 'other'
    np.testing.assert_array_equal(CAL.projection('P2'), CAL.P2)
    np.testing.assert_array_equal(CAL.camera_center('P2'), CAL.cam2_center)
    with pytest.raises(KeyError, match='P9'):
        CAL.projection('P9')


def test_explicit_rig_equals_the_defaults():
    a = make_frame(3, CAL, SMALL, 16, 1.0)
    b = make_frame(3, CAL, SMALL, 16, 1.0, rig=KITTI_RIG)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.points, b.points)
    assert a.labels == b.labels


def test_lidar_spec_drives_the_sweep():
    lidar = replace(KITTI_HDL64E, num_beams=8, azimuth_step_deg=2.0,
                    elevation_deg=(-10.0, 0.0))
    dirs = beam_directions(lidar)
    assert dirs.shape == (8, 180, 3)
    elev = np.degrees(np.arcsin(dirs[:, 0, 2]))
    np.testing.assert_allclose(elev, np.linspace(-10, 0, 8), atol=1e-9)
    rig = replace(KITTI_RIG, name='kitti-8', lidar=lidar)
    frame = make_frame(3, CAL, SMALL, rig=rig)
    ref = make_frame(3, CAL, SMALL, rig=KITTI_RIG)
    assert np.array_equal(frame.image, ref.image)  # same scene and camera
    # every return of the 8 beams lies on one of their elevations
    pts = frame.points[:, :3]
    got = np.degrees(np.arctan2(pts[:, 2], np.hypot(pts[:, 0], pts[:, 1])))
    assert np.abs(got[:, None] - elev[None]).min(1).max() < 0.5
    assert len(frame.points) < len(ref.points)


def test_another_camera_of_the_same_frame():
    """KITTI's right colour camera (P3) through the same renderer and
    labeller: its 2D boxes are the P3 projections of the labelled boxes."""
    cam3 = CameraSpec(name='CAM3', projection='P3', img_shape=SMALL)
    frame = make_frame(5, CAL, (375, 1242), 16, 1.0)
    image, ids = render_scene(frame.scene, CAL, (375, 1242), seed=5,
                              camera=cam3)
    assert not np.array_equal(image, frame.image)
    visible = np.bincount(ids[ids >= 0].ravel(),
                          minlength=len(frame.scene.solids))
    full = solid_masks_area(frame.scene, CAL, (375, 1242), cam3)
    checked = 0
    for i, solid in enumerate(frame.scene.solids):
        if solid.cls is None:
            continue
        line = box_label(solid, CAL, (375, 1242), visible[i], full[i], cam3)
        f = line.split()
        if not line or f[0] == 'DontCare' or float(f[1]) > 0:
            continue
        h, w, length = (float(v) for v in f[8:11])
        corners = box_corners_cam(np.array(f[11:14], float),
                                  np.array([length, h, w]), float(f[14]))
        uvw = np.c_[corners, np.ones(8)] @ CAL.P3.T
        uv = uvw[:, :2] / uvw[:, 2:]
        np.testing.assert_allclose(
            np.array(f[4:8], float),
            [uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(),
             uv[:, 1].max()], atol=0.006)
        checked += 1
    assert checked >= 1


def test_kitti_writer_refuses_other_cameras(tmp_path):
    cam3 = CameraSpec(name='CAM3', projection='P3', img_shape=SMALL)
    two = replace(KITTI_RIG, name='stereo', cameras=(KITTI_CAM2, cam3))
    with pytest.raises(ValueError, match="stereo.*'P2', 'P3'"):
        generate_world(str(tmp_path / 'w'), 1, 0, rig=two, make_infos=False)
    right = replace(KITTI_RIG, name='right', cameras=(cam3, ))
    with pytest.raises(ValueError, match='one camera with projection P2'):
        generate_world(str(tmp_path / 'w'), 1, 0, rig=right,
                       make_infos=False)


def test_manifest_names_a_non_kitti_rig(tmp_path):
    lidar = replace(KITTI_HDL64E, num_beams=8)
    rig = replace(KITTI_RIG, name='kitti-8beam', lidar=lidar)
    out = str(tmp_path / 'w')
    generate_world(out, 1, 0, seed=1, img_shape=SMALL, rig=rig,
                   make_infos=False)
    manifest = json.loads((tmp_path / 'w' / 'world.json').read_text())
    assert manifest['rig'] == 'kitti-8beam' and manifest['num_beams'] == 8
    # the same settings through KITTI_RIG are another world
    with pytest.raises(ValueError, match='rig: kitti-8beam != None'):
        generate_world(out, 1, 0, seed=1, img_shape=SMALL, num_beams=8,
                       make_infos=False)
    # KITTI_RIG's manifest has no rig key (as worlds made before it)
    generate_world(str(tmp_path / 'k'), 1, 0, seed=1, img_shape=SMALL,
                   num_beams=8, make_infos=False)
    assert 'rig' not in json.loads(
        (tmp_path / 'k' / 'world.json').read_text())

"""cmkd_mmdet3d.testing.synthetic.surround: the surround rig's frames, the
renderer with yawed cameras, and moving scenes."""
import numpy as np
import pytest

from cmkd_mmdet3d.testing.synthetic.render import render_scene
from cmkd_mmdet3d.testing.synthetic.scene import Scene, Solid, _build_parts
from cmkd_mmdet3d.testing.synthetic.surround import (
    NUS_CAMERAS, SurroundRig, camera2ego, camera_of,
    matrix_quaternion, points_in_box, rot_z, sample_moving_scene, scene_at,
    solid_global_box, world_from_global, yaw_quaternion)


def _one_car_scene(x, z, ry=np.pi / 2):
    scene = Scene([], np.zeros(2), np.array([0., -1., 0.]), 0.5, 1.0, 0.3,
                  np.array([0.3, 0.5, 0.8]), np.array([0.7, 0.8, 0.9]),
                  ground_height=0.0)
    solid = Solid('Car', np.array([x, 0.0, z]), np.array([4.0, 1.5, 1.8]),
                  ry)
    _build_parts(solid, 0, np.random.default_rng(0))
    scene.solids.append(solid)
    return scene


def test_camera_frames():
    # a camera looking left (ego +y): its z axis is the ego's y, and its
    # image x (the viewer's right hand) is the ego's forward x
    c2e = camera2ego(90.0, (1.0, 0.5, 1.5))
    np.testing.assert_allclose(c2e[:3, 2], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(c2e[:3, 0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(c2e[:3, 1], [0, 0, -1], atol=1e-12)
    assert np.linalg.det(c2e[:3, :3]) == pytest.approx(1.0)
    # world <- global: global x (forward) is world z, global z (up) is -y
    w = world_from_global((10.0, 5.0))
    np.testing.assert_allclose(w @ [11.0, 5.0, 2.0, 1.0], [0, -2, 1, 1])
    # LIDAR_TOP: x to the right of the vehicle, y forward
    rig = SurroundRig()
    l2e = rig.sensor2ego('LIDAR_TOP')
    np.testing.assert_allclose(l2e[:3, :3] @ [1, 0, 0], [0, -1, 0],
                               atol=1e-12)
    np.testing.assert_allclose(l2e[:3, 3], [0.94, 0.0, 1.84])
    # intrinsics scale with the image
    small = SurroundRig(img_shape=(450, 800))
    np.testing.assert_allclose(small.intrinsics('CAM_FRONT')[:2],
                               rig.intrinsics('CAM_FRONT')[:2] / 2)


def test_quaternions_and_boxes():
    for yaw in (-2.5, -0.3, 0.0, 1.2, 3.0):
        a = np.array(matrix_quaternion(rot_z(yaw)))
        b = np.array(yaw_quaternion(yaw))
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) < 1e-9
    g2w = world_from_global((100.0, 200.0))
    w2g = np.linalg.inv(g2w)
    # heading along world +z (KITTI ry = -pi/2) is global yaw 0
    solid = Solid('car', np.array([2.0, 0.0, 10.0]),
                  np.array([4.0, 1.5, 1.8]), -np.pi / 2)
    centre, size, yaw = solid_global_box(solid, w2g)
    np.testing.assert_allclose(centre, [110.0, 198.0, 0.75])
    np.testing.assert_allclose(size, [1.8, 4.0, 1.5])
    assert yaw == pytest.approx(0.0)
    pts = np.array([[111.9, 198.0, 0.1], [112.1, 198.0, 0.1],
                    [110.0, 198.85, 1.4], [110.0, 198.0, 1.6]])
    assert points_in_box(pts, centre, size, yaw).tolist() == [
        True, False, True, False]


def test_yawed_cameras_see_what_lies_in_their_direction():
    """A car behind the ego is drawn by CAM_BACK, around its box's
    projected centre, and by no front camera (the renderer works in the
    world frame for any camera yaw)."""
    rig = SurroundRig(img_shape=(90, 160))
    calib = rig.calibration(np.eye(4))
    scene = _one_car_scene(0.0, -12.0)     # world z < 0: behind
    seen = {}
    for cam in NUS_CAMERAS:
        img, ids = render_scene(scene, calib, rig.img_shape,
                                camera=camera_of(cam, rig))
        seen[cam] = ids
        assert img.shape == (90, 160, 3)
    assert (seen['CAM_BACK'] == 0).sum() > 20
    for cam in ('CAM_FRONT', 'CAM_FRONT_LEFT', 'CAM_FRONT_RIGHT'):
        assert (seen[cam] == 0).sum() == 0
    centre = scene.solids[0].loc + np.array([0.0, -0.75, 0.0])
    uvw = calib.projection('CAM_BACK') @ np.append(centre, 1.0)
    u, v = uvw[:2] / uvw[2]
    vs, us = np.nonzero(seen['CAM_BACK'] == 0)
    assert us.min() <= u <= us.max() and vs.min() <= v <= vs.max()


def _footprint(solid):
    """Corners (4, 2) of a solid's footprint in world (x, z), by hand."""
    l, _, w = solid.dims
    u = np.array([np.cos(solid.ry), -np.sin(solid.ry)])    # length axis
    v = np.array([u[1], -u[0]])
    c = np.array([solid.loc[0], solid.loc[2]])
    return np.array([c + sl * l / 2 * u + sw * w / 2 * v
                     for sl, sw in ((1, 1), (1, -1), (-1, -1), (-1, 1))])


def _rects_intersect(a, b):
    """Separating-axis test of two convex quadrilaterals (4, 2)."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pa, pb = a @ axis, b @ axis
            if pa.max() < pb.min() or pb.max() < pa.min():
                return False
    return True


def test_rects_intersect():
    sq = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], float)
    assert _rects_intersect(sq, sq + [1.9, 0])
    assert not _rects_intersect(sq, sq + [2.1, 0])
    diamond = np.array([[1.5, 0], [0, 1.5], [-1.5, 0], [0, -1.5]]) + [2.4, 0]
    assert _rects_intersect(sq, diamond)       # tip inside the square
    assert not _rects_intersect(sq, diamond + [0.2, 2.0])


@pytest.mark.parametrize('seed', [3, 4, 5])
def test_moving_scene(seed):
    rng = np.random.default_rng(seed)
    moving = sample_moving_scene(rng, duration=4.5)
    n = len(moving.scene.solids)
    assert moving.velocities.shape == (n, 3) and len(moving.attributes) == n
    labelled = [s.cls for s in moving.scene.solids if s.cls is not None]
    assert len(labelled) >= 15
    speed = np.abs(moving.velocities[:, 2])
    for solid, attr, s in zip(moving.scene.solids, moving.attributes, speed):
        if attr in ('vehicle.moving', 'pedestrian.moving',
                    'cycle.with_rider'):
            assert s > 0.5, (solid.cls, attr)
        else:   # parked, stopped, standing, without rider, or no attribute
            assert s == 0, (solid.cls, attr)
        assert (attr == '') == (solid.cls in (None, 'barrier',
                                              'traffic_cone'))
    assert np.all(moving.velocities[:, :2] == 0)      # along the road
    # footprints never intersect while the objects move
    for t in np.linspace(0.0, 4.5, 10):
        rects = [_footprint(s) for s in scene_at(moving, t).solids]
        for i in range(n):
            for j in range(i + 1, n):
                assert not _rects_intersect(rects[i], rects[j]), (t, i, j)
    # parts move with their solid
    later = scene_at(moving, 2.0)
    i = int(np.argmax(speed))
    shift = later.solids[i].parts[0].center - \
        moving.scene.solids[i].parts[0].center
    np.testing.assert_allclose(shift, moving.velocities[i] * 2.0)
    np.testing.assert_allclose(moving.ego2global(2.0)[0, 3],
                               moving.origin_xy[0] + 2 * moving.ego_speed)

"""structures.calibration: KITTI calib files, a camera from its intrinsics
and height (checked by hand-projected road points and against KITTI's own
mounting), and the refusal of a calibration of another image size."""
import os

import numpy as np
import pytest

from cmkd_mmdet3d.structures import (calib_from_intrinsics, calib_from_kitti,
                                     check_calib_fits_image, project_points,
                                     read_kitti_calib)
from cmkd_mmdet3d.testing.synthetic import (calibration_for_date,
                                            write_calib_txt)
from cmkd_mmdet3d.testing.synthetic.geometry import KITTI_P2

FX, FY, CX, CY = 700.0, 690.0, 600.0, 180.0


def test_level_camera_projects_road_points_where_pinhole_geometry_puts_them():
    """A road point d m ahead and y m to the left of a camera h m above the
    road: u = cx - fx * y / d, v = cy + fy * h / d (by hand)."""
    h = 1.4
    l2c, c2i = calib_from_intrinsics((FX, FY, CX, CY), cam_height=h)
    road_z = -1.73  # the virtual LiDAR origin is KITTI's, 1.73 m up
    pts = np.array([[10.0, 0.0, road_z], [20.0, 2.0, road_z],
                    [5.0, -1.0, road_z]])
    uv, w = project_points(pts, c2i @ l2c)[:2]
    for (d, y, _), (u, v), depth in zip(pts, uv, w):
        assert u == pytest.approx(CX - FX * y / d)
        assert v == pytest.approx(CY + FY * h / d)
        assert depth == pytest.approx(d)
    # the camera centre is straight above the LiDAR origin, h - 1.73 m
    centre = -np.linalg.solve(l2c[:3, :3], l2c[:3, 3])
    np.testing.assert_allclose(centre, [0.0, 0.0, h - 1.73], atol=1e-12)


def test_intrinsics_with_kittis_camera_height_give_kittis_mounting():
    """KITTI's camera (1.65 m) and Velodyne (1.73 m): the virtual LiDAR
    frame is KITTI's real one up to its small rotations and the 0.27 m
    forward offset left out."""
    kitti = calibration_for_date('2011_09_26')
    l2c, c2i = calib_from_intrinsics(
        (KITTI_P2[0, 0], KITTI_P2[1, 1], KITTI_P2[0, 2], KITTI_P2[1, 2]),
        cam_height=1.65)
    np.testing.assert_allclose(l2c[:3, :3], kitti.lidar2cam[:3, :3],
                               atol=0.02)
    assert l2c[1, 3] == pytest.approx(kitti.lidar2cam[1, 3], abs=0.01)
    np.testing.assert_allclose(c2i[:3, :3], KITTI_P2[:, :3])


@pytest.mark.parametrize('intr, h, match', [
    ((0.0, 700.0, 600.0, 180.0), 1.65, 'focal'),
    ((700.0, 700.0, 600.0), 1.65, r'\(fx, fy, cx, cy\)'),
    ((700.0, 700.0, 600.0, 180.0), -1.0, 'height'),
    ((700.0, np.nan, 600.0, 180.0), 1.65, 'focal'),
])
def test_bad_intrinsics_are_refused(intr, h, match):
    with pytest.raises(ValueError, match=match):
        calib_from_intrinsics(intr, cam_height=h)


def test_kitti_calib_file_gives_the_infos_matrices(synthetic_world):
    """lidar2cam = R0_rect @ Tr_velo_to_cam and cam2img = P2, as mmdet3d's
    converter wrote them into the infos."""
    import mmengine
    infos = mmengine.load(
        os.path.join(synthetic_world, 'kitti_infos_val.pkl'))['data_list']
    for info in infos:
        path = os.path.join(synthetic_world, 'training', 'calib',
                            f"{info['sample_idx']:06d}.txt")
        l2c, c2i = calib_from_kitti(read_kitti_calib(path), path)
        cam = info['images']['CAM2']
        np.testing.assert_allclose(l2c, cam['lidar2cam'], atol=1e-6)
        np.testing.assert_allclose(c2i, cam['cam2img'], atol=1e-4)
        assert c2i.shape == (4, 4)


def test_malformed_calibration_names_file_and_key(tmp_path):
    path = tmp_path / 'bad.txt'
    write_calib_txt(str(path), calibration_for_date('2011_09_26'))
    good = path.read_text()
    path.write_text(good.replace('P2: ', 'P2: 1.0 '))
    with pytest.raises(ValueError, match=r'bad\.txt.*P2.*13 values'):
        read_kitti_calib(str(path))
    path.write_text(good.replace('R0_rect: 9', 'R0_rect: x'))
    with pytest.raises(ValueError, match=r'bad\.txt: key R0_rect'):
        read_kitti_calib(str(path))
    path.write_text(''.join(line + '\n' for line in good.splitlines()
                            if not line.startswith('Tr_velo_to_cam')))
    with pytest.raises(ValueError, match=r"bad\.txt.*\['Tr_velo_to_cam'\]"):
        read_kitti_calib(str(path))
    # a singular P2 is refused by name too
    path.write_text(good.replace('P2: ', 'P2: 0 0 0 0 0 0 0 0 0 0 0 0\nX: '))
    with pytest.raises(ValueError, match=r'cam2img of .*bad\.txt.*singular'):
        calib_from_kitti(read_kitti_calib(str(path)), str(path))


def test_calibration_of_another_image_size_is_refused():
    check_calib_fits_image(KITTI_P2, (375, 1242, 3), 'image a.png')
    # KITTI's P2 with a half-size image: the principal point is at the
    # right edge (609.6 of 621 px)
    with pytest.raises(ValueError) as err:
        check_calib_fits_image(KITTI_P2, (188, 621), 'image a.png')
    msg = str(err.value)
    assert 'image a.png' in msg and '188x621' in msg
    assert '346x1219' in msg  # the size P2 was made for
    # a crop that moves the principal point out of the central half
    with pytest.raises(ValueError, match='principal point'):
        check_calib_fits_image(KITTI_P2, (375, 3000))
    with pytest.raises(ValueError, match='camera matrix'):
        check_calib_fits_image(np.zeros((3, 4)), (375, 1242))

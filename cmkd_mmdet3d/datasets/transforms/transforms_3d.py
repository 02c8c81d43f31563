"""Pipeline transforms of the camera student (the image-space augmentation of
the reference, ``random_image_pc_flip`` in ``Cc-Hy/CMKD:pcdet/datasets/
augmentor/``, and the depth targets of CaDDN, Reading et al., CVPR 2021).

The student sees the image, the teacher (issue "distillation") the points of
the same sample; every geometric augmentation must therefore move image,
depth map, points and boxes together while the calibration stays valid.
"""
import numbers
import os.path as osp
from typing import Optional, Set, Tuple

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet3d.datasets.transforms import Pack3DDetInputs
from mmdet3d.registry import TRANSFORMS
from mmengine.logging import print_log

from ...structures.calibration import check_calib_fits_image
from ...structures.geometry import (BEV_AUG_STEPS, bev_augmentation_matrix,
                                    check_calibration, compose_lidar2img,
                                    points_in_fov)
from ..pseudo_labels import check_info_instances
from .image_geometry import (crop_flip_rotate_pixel_map, crop_intrinsics,
                             depth_map_from_points, mirror_through_image,
                             resize_pixel_map, sample_bevdet_view_aug,
                             scale_intrinsics, sparse_avg_pool,
                             warp_intrinsics)


def _where(results: dict) -> str:
    return results.get('img_path') or results.get('lidar_path') or \
        f"sample {results.get('sample_idx', '?')}"


def is_multiview(results: dict) -> bool:
    """Several cameras per sample: mmdet3d's ``LoadMultiViewImageFromFiles``
    gives ``img`` and ``lidar2cam`` / ``cam2img`` as lists, one per view."""
    return isinstance(results.get('img'), list) or isinstance(
        results.get('lidar2cam'), list)


def _calibration(results: dict):
    """(lidar2cam (4, 4), cam2img (3, 4)) checked, or for several cameras
    (N, 4, 4) and (N, 3, 4)."""
    for key in ('lidar2cam', 'cam2img'):
        if key not in results:
            raise KeyError(f'{key!r} missing in the results of '
                           f'{_where(results)}: load the sample with '
                           f"modality use_camera=True (KittiDataset copies "
                           f"images['CAM2'][{key!r}] from the info)")
    if is_multiview(results):
        l2c, c2i = results['lidar2cam'], results['cam2img']
        if len(l2c) != len(c2i):
            raise ValueError(f'{_where(results)}: {len(l2c)} lidar2cam for '
                             f'{len(c2i)} cam2img')
        pairs = [check_calibration(a, b, f'view {i} of {_where(results)}')
                 for i, (a, b) in enumerate(zip(l2c, c2i))]
        return (np.stack([p[0] for p in pairs]),
                np.stack([p[1] for p in pairs]))
    return check_calibration(results['lidar2cam'], results['cam2img'],
                             _where(results))


def _image_shape(results: dict):
    """(H, W) of the loaded image; for a LiDAR-only pipeline (no image
    loaded) the size the info gives for the camera of ``img_path``."""
    if 'img' in results:
        img = results['img']
        return (img[0] if isinstance(img, list) else img).shape[:2]
    if 'img_shape' in results:
        return tuple(results['img_shape'][:2])
    info = _info_image_size(results)
    if info is not None:
        return info[1], info[2]
    raise KeyError(f'no image shape for {_where(results)}: put '
                   'LoadImageFromFile before this transform, or give the '
                   'camera its height / width in the info')


def _info_image_size(results: dict):
    """(camera key, height, width) that the info gives for the loaded image,
    or None when the info has no size for it."""
    images = results.get('images') or {}
    img_path = results.get('img_path')
    for key, cam in images.items():
        if isinstance(cam, dict) and cam.get('img_path') == img_path and \
                'height' in cam and 'width' in cam:
            return key, int(cam['height']), int(cam['width'])
    return None


def check_image_size(results: dict) -> None:
    """Refuse an image whose size is not the one of its info, or whose
    calibration puts the principal point outside it.

    mmdet3d 1.4 infos record the image size as ``images.CAM2.height`` /
    ``width``; ``LoadImageFromFile`` stores the size of the decoded file as
    ``ori_shape`` (kept by :class:`ScaleImage3D`). A principal point of
    ``cam2img`` (P2) outside the central half of the current image means
    that the calibration belongs to another image size or crop
    (:func:`~cmkd_mmdet3d.structures.calibration.check_calib_fits_image`).
    Without an image in ``results`` nothing is checked; after
    :class:`BEVDetImageAug3D` (``img_aug_matrix`` in ``results``), which
    checked the calibration it started from and moved it with the image,
    the principal point is not checked (a bottom crop of a larger scale
    takes it out of the central half).

    Args:
        results (dict): The pipeline results.

    Raises:
        ValueError: Naming the image file, its size and the expected size.
    """
    if 'img' not in results:
        return
    if isinstance(results['img'], list):
        _check_view_sizes(results)
        return
    h, w = results['img'].shape[:2]
    loaded = tuple(results.get('ori_shape') or (h, w))[:2]
    expected = _info_image_size(results)
    if expected is not None and loaded != expected[1:]:
        raise ValueError(
            f'image {_where(results)} is {loaded[0]}x{loaded[1]} (HxW), its '
            f'info (images.{expected[0]}.height/width) expects '
            f'{expected[1]}x{expected[2]}: the file does not belong to this '
            'info (regenerate the infos or restore the image)')
    if 'cam2img' in results and 'img_aug_matrix' not in results:
        check_calib_fits_image(results['cam2img'], (h, w),
                               f'image {_where(results)}')


def _check_view_sizes(results: dict) -> None:
    """:func:`check_image_size` for several cameras: every view as loaded
    (``ori_shape``, mmdet3d pads the views to one size) against its info's
    ``images.<CAM>.height`` / ``width`` (the views in the order of
    ``images``, as ``LoadMultiViewImageFromFiles`` reads them), and every
    view's ``cam2img`` against the current view."""
    imgs = results['img']
    names = results.get('filename') or [f'view {i}' for i in range(len(imgs))]
    cams = [(k, c) for k, c in (results.get('images') or {}).items()
            if isinstance(c, dict) and 'height' in c and 'width' in c]
    loaded = results.get('ori_shape')
    if loaded is not None and len(cams) == len(imgs):
        for (key, cam), name in zip(cams, names):
            if tuple(loaded[:2]) != (int(cam['height']), int(cam['width'])):
                raise ValueError(
                    f'image {name} is {loaded[0]}x{loaded[1]} (HxW), its '
                    f'info (images.{key}.height/width) expects '
                    f"{cam['height']}x{cam['width']}: the file does not "
                    'belong to this info')
    c2i = results.get('cam2img')
    if c2i is not None:
        if len(c2i) != len(imgs):
            raise ValueError(f'{_where(results)}: {len(imgs)} images for '
                             f'{len(c2i)} cam2img')
        if 'img_aug_matrix' in results:
            # derived from a checked calibration with the views' own map
            # (BEVDetImageAug3D): its principal point may leave the centre
            return
        for img, k, name in zip(imgs, c2i, names):
            check_calib_fits_image(k, img.shape[:2], f'image {name}')


@TRANSFORMS.register_module()
class FOVFilterPoints(BaseTransform):
    """Keep the finite points that project into the image with depth >= 0.

    Required keys: points, lidar2cam, cam2img, and img, img_shape, or (in
    a LiDAR-only pipeline, e.g. a Waymo teacher's) the camera's height and
    width in the info; in that last case ``img_shape`` is set from the info,
    so that later steps and metrics see the camera's image size.
    A point with any non-finite feature (a NaN intensity as well as a NaN
    coordinate) is dropped: the teacher would turn it into a NaN BEV
    feature and loss. Their number is stored as
    ``results['num_nonfinite_points']`` and logged once per file at the
    warning level.

    Args:
        allow_empty (bool): Keep a sample without any point in the image
            instead of raising. Defaults to False.

    Raises:
        ValueError: Naming the file, when every point has a non-finite
            feature, or when no point is left (an empty sweep, or a
            calibration that does not belong to the sweep); also the image
            checks of :func:`check_image_size`.
    """

    _warned: Set[str] = set()     # files already reported (per process)

    def __init__(self, allow_empty: bool = False) -> None:
        self.allow_empty = allow_empty

    def _drop_nonfinite(self, results: dict):
        points = results['points']
        finite = torch.isfinite(points.tensor).all(1)
        bad = int((~finite).sum())
        results['num_nonfinite_points'] = bad
        if not bad:
            return points
        path = results.get('lidar_path') or _where(results)
        if bad == len(points):
            raise ValueError(f'every one of the {bad} LiDAR points of {path} '
                             'has a non-finite feature (NaN / inf): a '
                             'corrupt sweep')
        if path not in self._warned:
            self._warned.add(path)
            print_log(f'FOVFilterPoints: dropped {bad} of {len(points)} '
                      f'LiDAR points of {path} with a non-finite feature '
                      '(NaN / inf)', logger='current', level=30)
        return points[finite]

    def transform(self, results: dict) -> dict:
        """Drop the non-finite points, then those outside the image.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with the kept ``points`` and
            ``num_nonfinite_points``.
        """
        check_image_size(results)
        l2c, c2i = _calibration(results)
        points = self._drop_nonfinite(results)
        mask = points_in_fov(points.tensor[:, :3].numpy(), l2c, c2i,
                             _image_shape(results))
        if not mask.any() and not self.allow_empty:
            raise ValueError(
                f'no LiDAR point of {results.get("lidar_path", "?")} falls '
                f'into the image of {_where(results)} (empty sweep or wrong '
                f'calibration; {len(points)} points before the filter)')
        results['points'] = points[torch.from_numpy(mask)]
        if 'img' not in results and 'img_shape' not in results:
            results['img_shape'] = tuple(_image_shape(results))
        return results


@TRANSFORMS.register_module()
class ObjectFOVFilter(BaseTransform):
    """Keep the ground-truth boxes whose centre (at half height) projects
    into the image with depth >= 0: the boxes a front camera can see.

    KITTI labels only what the camera sees; Waymo labels all around the
    vehicle, so the monocular protocol (CaDDN, CMKD on Waymo) restricts the
    ground truth to the camera's field of view, and a LiDAR teacher fed the
    FOV points only must not be asked for the boxes outside it.

    Required keys: gt_bboxes_3d, gt_labels_3d, lidar2cam, cam2img and an
    image size (see :class:`FOVFilterPoints`). Modified keys: gt_bboxes_3d,
    gt_labels_3d (and gt_bboxes / gt_bboxes_labels / centers_2d / depths
    when present with one row per box).
    """

    def transform(self, results: dict) -> dict:
        """Drop the boxes outside the image.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with the kept boxes.
        """
        if is_multiview(results):
            raise ValueError(
                f'ObjectFOVFilter keeps the boxes of one camera, but '
                f'{_where(results)} has several views: it is for front-camera '
                'pipelines (Waymo), not surround ones')
        boxes = results['gt_bboxes_3d']
        n = len(boxes)
        if n == 0:
            return results
        l2c, c2i = _calibration(results)
        keep = points_in_fov(boxes.gravity_center.numpy(), l2c, c2i,
                             _image_shape(results))
        results['gt_bboxes_3d'] = boxes[torch.from_numpy(keep)]
        for key in ('gt_labels_3d', 'gt_bboxes', 'gt_bboxes_labels',
                    'centers_2d', 'depths', 'gt_scores_3d'):
            value = results.get(key)
            if value is not None and len(value) == n:
                results[key] = value[keep]
        return results


@TRANSFORMS.register_module()
class LoadDepthMap(BaseTransform):
    """Load a precomputed depth map (uint16 PNG, metres x ``scale``) when it
    exists, as ``results['depth_map']`` (H, W) float32, 0 = no depth.

    The path is the image path with the ``image_dir`` folder replaced by
    ``depth_dir`` (KITTI: ``training/image_2/000001.png`` ->
    ``training/depth_2/000001.png``, CaDDN's completed maps). Without the
    file nothing is loaded (``MakeDepthTarget`` then projects the LiDAR), or
    a FileNotFoundError is raised when ``required``. A zero-byte or
    unreadable map, or one of another size than its image, is a ValueError
    naming the file.
    """

    def __init__(self,
                 image_dir: str = 'image_2',
                 depth_dir: str = 'depth_2',
                 scale: float = 256.0,
                 required: bool = False) -> None:
        self.image_dir, self.depth_dir = image_dir, depth_dir
        self.scale, self.required = scale, required

    def depth_path(self, img_path: str) -> str:
        parts = img_path.split(osp.sep)
        if self.image_dir not in parts:
            raise ValueError(f'image path {img_path} has no '
                             f'{self.image_dir!r} folder to replace')
        i = len(parts) - 1 - parts[::-1].index(self.image_dir)
        parts[i] = self.depth_dir
        return osp.sep.join(parts)

    def transform(self, results: dict) -> dict:
        if self.image_dir not in results['img_path'].split(osp.sep):
            if self.required:
                raise ValueError(f"image path {results['img_path']} has no "
                                 f'{self.image_dir!r} folder to replace')
            return results     # e.g. KITTI raw frames (image_02/data)
        path = self.depth_path(results['img_path'])
        if not osp.exists(path):
            if self.required:
                raise FileNotFoundError(f'depth map {path} of '
                                        f"{results['img_path']} not found")
            return results
        check_image_size(results)
        if osp.getsize(path) == 0:
            raise ValueError(f'depth map {path} of {results["img_path"]} is '
                             'empty (0 bytes)')
        raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if raw is None or raw.ndim != 2:
            raise ValueError(f'{path} is not a single-channel depth PNG')
        depth = raw.astype(np.float32) / self.scale
        shape = _image_shape(results)
        if depth.shape != tuple(shape):
            raise ValueError(f'depth map {path} is {depth.shape}, its image '
                             f'{results["img_path"]} is {tuple(shape)}')
        results['depth_map'] = depth
        results['depth_path'] = path
        return results


@TRANSFORMS.register_module()
class ScaleImage3D(BaseTransform):
    """Resize the image by ``scale`` and update ``cam2img`` / ``lidar2img``
    so that every LiDAR point still projects onto the same image content.

    ``cv2.resize`` aligns pixel centres: u' = s (u + 0.5) - 0.5, hence
    P2' rows 0 and 1 = s * rows 0 and 1 + (s - 1) / 2 * row 2. For the
    light CPU configs; the reference (and the KITTI configs) never resize.
    Put it right after ``LoadImageFromFile``. With several cameras
    (``LoadMultiViewImageFromFiles``) every view and its ``cam2img`` are
    resized alike.
    """

    def __init__(self, scale: float) -> None:
        if not 0 < scale:
            raise ValueError(f'scale must be positive, got {scale}')
        self.scale = scale

    def transform(self, results: dict) -> dict:
        """Resize the image (or every view) and update its calibration.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with ``img``, ``img_shape``, ``cam2img``,
            ``lidar2img`` and ``scale_factor`` (sx, sy) updated.
        """
        check_image_size(results)
        multi = is_multiview(results)
        imgs = results['img'] if multi else [results['img']]
        c2is = results['cam2img'] if multi else [results['cam2img']]
        out, ks = [], []
        for img, c2i in zip(imgs, c2is):
            h, w = img.shape[:2]
            size = (max(1, int(round(w * self.scale))),
                    max(1, int(round(h * self.scale))))
            out.append(cv2.resize(
                img, size, interpolation=cv2.INTER_AREA
                if self.scale < 1 else cv2.INTER_LINEAR))
            sx, sy = size[0] / w, size[1] / h
            ks.append(scale_intrinsics(c2i, sx, sy))
        _store_views(results, out, ks, multi)
        results['scale_factor'] = (sx, sy)
        return results


def _store_views(results: dict, imgs: list, cam2imgs: list,
                 multi: bool) -> None:
    """Put resized, cropped or warped views (all of one size) back with their
    ``cam2img``: ``img_shape`` and ``pad_shape`` (when present) become
    their size and ``lidar2img`` is recomposed when ``lidar2cam`` is
    there; one view unless ``multi``."""
    results['img'] = imgs if multi else imgs[0]
    results['cam2img'] = cam2imgs if multi else cam2imgs[0]
    results['img_shape'] = tuple(imgs[0].shape[:2])
    if 'pad_shape' in results:
        results['pad_shape'] = tuple(imgs[0].shape[:2])
    if 'lidar2cam' in results:
        l2c = results['lidar2cam'] if multi else [results['lidar2cam']]
        l2i = [compose_lidar2img(np.asarray(a, dtype=np.float64), k)
               for a, k in zip(l2c, cam2imgs)]
        results['lidar2img'] = l2i if multi else l2i[0]


@TRANSFORMS.register_module()
class CropImage3D(BaseTransform):
    """Crop the image (or every view) to ``size`` (H, W) at (``top``,
    ``left``) and shift ``cam2img`` with it, so that every LiDAR point still
    projects onto the same content. With ``top=None`` the crop keeps the
    bottom rows, as BEVDet's test-time crop of nuScenes images resized to
    396 x 704 (CMKD-MV's input 256 x 704: the top 140 rows, mostly sky,
    dropped). Put it after :class:`ScaleImage3D`.

    Args:
        size (tuple[int, int]): (H, W) of the crop, pixels.
        top (int, optional): First row kept; None: ``H_img - H``.
        left (int, optional): First column kept; None: centred.

    Raises:
        ValueError: at build time for a non-positive size, and naming the
            image when the crop does not fit inside it.
    """

    def __init__(self, size, top: Optional[int] = None,
                 left: Optional[int] = None) -> None:
        if len(size) != 2 or min(size) <= 0:
            raise ValueError(f'CropImage3D: size must be (H, W) > 0, got '
                             f'{size!r}')
        self.size = (int(size[0]), int(size[1]))
        self.top, self.left = top, left

    def transform(self, results: dict) -> dict:
        """Crop the image(s) and update the calibration.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with ``img``, ``img_shape``, ``cam2img`` and
            ``lidar2img`` updated and ``crop_offset`` (left, top).
        """
        multi = is_multiview(results)
        imgs = results['img'] if multi else [results['img']]
        c2is = results['cam2img'] if multi else [results['cam2img']]
        h, w = self.size
        ih, iw = imgs[0].shape[:2]
        top = ih - h if self.top is None else self.top
        left = (iw - w) // 2 if self.left is None else self.left
        if top < 0 or left < 0 or top + h > ih or left + w > iw:
            raise ValueError(
                f'CropImage3D: a {h}x{w} crop at (top {top}, left {left}) '
                f'does not fit the {ih}x{iw} image of {_where(results)}')
        out = [i[top:top + h, left:left + w] for i in imgs]
        _store_views(results, out, [crop_intrinsics(k, left, top)
                                    for k in c2is], multi)
        results['crop_offset'] = (left, top)
        return results


def _check_range(name: str, value) -> Tuple[float, float]:
    if len(value) != 2 or not value[0] <= value[1]:
        raise ValueError(f'BEVDetImageAug3D: {name} must be (low, high) '
                         f'with low <= high, got {value!r}')
    return float(value[0]), float(value[1])


@TRANSFORMS.register_module()
class BEVDetImageAug3D(BaseTransform):
    """BEVDet's image-view augmentation, as CMKD-MV trains its student
    (``LoadMultiViewImageFromFiles_BEVDet`` of ``Cc-Hy/CMKD-MV:mmdet3d/
    datasets/pipelines/loading.py``, its ``data_config``), drawn for every
    view on its own: resize, crop to ``final_size``, flip left-right and
    rotate; at test time the fixed resize and the centred bottom crop.

    The parameters are drawn as CMKD-MV draws them
    (:func:`~.image_geometry.sample_bevdet_view_aug`). The image is resized
    with ``cv2.resize`` (area averaging when it shrinks) and then cropped,
    flipped and rotated in one ``cv2.warpAffine`` (bilinear; pixels from
    outside the view are 0, as PIL fills them). ``cam2img`` becomes ``M @
    cam2img`` with M the exact pixel map of both steps, so that every
    LiDAR point still projects onto its content and the depth targets, the
    lift and the BEV augmentation (:class:`BEVAugToCameras`, which leaves
    the images alone) stay consistent. CMKD-MV keeps the map apart
    (``post_rot`` / ``post_tran``) and builds it from the nominal scale and
    PIL's corner coordinates; up to the truncation of the resized size to
    whole pixels the two are the same map. Put it right after the images
    are loaded; it replaces :class:`ScaleImage3D` + :class:`CropImage3D`.

    Args:
        final_size (tuple[int, int]): (H, W) of every output view, pixels
            (CMKD-MV: (256, 704)).
        resize (tuple[float, float]): Range added to ``W_out / W`` to make
            the training scale (CMKD-MV: (-0.06, 0.06)).
        rot (tuple[float, float]): Rotation range, degrees, counter-
            clockwise on screen (CMKD-MV: (-5.4, 5.4)).
        flip (bool): Flip left-right with probability 0.5 (CMKD-MV: True).
        crop_h (tuple[float, float]): Range of the window's bottom above
            the image's bottom, as a fraction of the resized height
            (CMKD-MV: (0.0, 0.0), the bottom rows).
        resize_test (float): Added to ``W_out / W`` at test time (CMKD-MV:
            0.04).
        test_mode (bool): The fixed test-time transform instead of the
            random one.

    Raises:
        ValueError: at build time for a non-positive size or a range whose
            low end exceeds its high end.
    """

    def __init__(self, final_size, resize=(0.0, 0.0), rot=(0.0, 0.0),
                 flip: bool = False, crop_h=(0.0, 0.0),
                 resize_test: float = 0.0, test_mode: bool = False) -> None:
        if len(final_size) != 2 or min(final_size) <= 0:
            raise ValueError(f'BEVDetImageAug3D: final_size must be (H, W) '
                             f'> 0, got {final_size!r}')
        self.final_size = (int(final_size[0]), int(final_size[1]))
        self.resize = _check_range('resize', resize)
        self.rot = _check_range('rot', rot)
        self.crop_h = _check_range('crop_h', crop_h)
        self.flip, self.resize_test = bool(flip), float(resize_test)
        self.test_mode = bool(test_mode)

    def transform(self, results: dict) -> dict:
        """Augment every view and update its calibration.

        Args:
            results (dict): The pipeline results, ``img`` a list of (H, W,
                3) views (or one image) with their ``cam2img``.

        Returns:
            dict: ``results`` with ``img`` (every view ``final_size``),
            ``img_shape``, ``cam2img`` and ``lidar2img`` updated, and
            ``img_aug_matrix``: per view the (3, 3) map of its original
            pixels to the output's.
        """
        check_image_size(results)
        multi = is_multiview(results)
        imgs = results['img'] if multi else [results['img']]
        c2is = results['cam2img'] if multi else [results['cam2img']]
        fh, fw = self.final_size
        out, ks, maps = [], [], []
        for img, c2i in zip(imgs, c2is):
            h, w = img.shape[:2]
            aug = sample_bevdet_view_aug(
                (h, w), self.final_size, self.resize, self.rot, self.flip,
                self.crop_h, self.test_mode, self.resize_test)
            nw, nh = aug['resized']
            resized = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA
                                 if nw < w else cv2.INTER_LINEAR)
            m = crop_flip_rotate_pixel_map(aug['crop_offset'],
                                           self.final_size, aug['flip'],
                                           aug['rotate'])
            warped = cv2.warpAffine(resized, m[:2], (fw, fh),
                                    flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=0)
            out.append(warped.reshape(fh, fw, *img.shape[2:]))
            m = m @ resize_pixel_map(nw / w, nh / h)
            maps.append(m)
            ks.append(warp_intrinsics(c2i, m))
        _store_views(results, out, ks, multi)
        results['img_aug_matrix'] = maps if multi else maps[0]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(final_size={self.final_size}, '
                f'resize={self.resize}, rot={self.rot}, flip={self.flip}, '
                f'crop_h={self.crop_h}, resize_test={self.resize_test}, '
                f'test_mode={self.test_mode})')


@TRANSFORMS.register_module()
class ImageSpaceFlip3D(BaseTransform):
    """Flip the image left-right together with the depth map, the points
    and the boxes, keeping the calibration (the reference's
    ``random_image_pc_flip``, ``Cc-Hy/CMKD:pcdet/datasets/augmentor/``).

    Points and box bottom centres are projected into the image, ``u`` is
    mirrored and they are back-projected with the same depth and
    calibration, so every point still lands on the mirrored pixel; box
    headings are negated. Compared with ``RandomFlip3D`` (a BEV flip about
    the LiDAR x axis), this flip is the one that keeps image and points
    consistent under an unchanged ``lidar2cam`` / ``cam2img``.

    Args:
        flip_ratio (float): Probability of flipping. Defaults to 0.5.
        align (str): 'caddn' mirrors u -> W - u as the reference (half a
            pixel off the flipped image, kept for fidelity); 'exact' mirrors
            u -> W - 1 - u. Defaults to 'caddn'.
        projection (str): 'geometric' (default) projects with the true
            perspective division by ``w' = z_rect + P2[2, 3]``, so image,
            points and calibration stay exactly consistent. The reference
            (``Cc-Hy/CMKD``'s ``random_image_pc_flip`` through OpenPCDet's
            ``calibration_kitti.rect_to_img`` / ``img_to_rect``) divides by
            the rectified z instead: its mirrored points and boxes sit a
            constant ``W * P2[2, 3] / f_u`` further along the camera x axis
            (4.7 mm with KITTI's P2). 'reference' reproduces that. See
            :func:`mirror_through_image`.
    """

    def __init__(self, flip_ratio: float = 0.5,
                 align: str = 'caddn', projection: str = 'geometric') -> None:
        if align not in ('caddn', 'exact'):
            raise ValueError(f"align must be 'caddn' or 'exact', got "
                             f'{align!r}')
        if projection not in ('geometric', 'reference'):
            raise ValueError("projection must be 'geometric' or "
                             f"'reference', got {projection!r}")
        self.flip_ratio, self.align = flip_ratio, align
        self.projection = projection

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.flip_ratio)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        if not flip:
            return results
        l2c, c2i = _calibration(results)
        h, w = _image_shape(results)
        results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        if 'depth_map' in results:
            results['depth_map'] = np.ascontiguousarray(
                results['depth_map'][:, ::-1])
        if 'points' in results:
            pts = results['points']
            xyz = mirror_through_image(pts.tensor[:, :3].numpy(), l2c, c2i,
                                       w, self.align, self.projection)
            pts.tensor[:, :3] = torch.from_numpy(xyz).to(pts.tensor.dtype)
        boxes = results.get('gt_bboxes_3d')
        if boxes is not None and len(boxes):
            t = boxes.tensor
            xyz = mirror_through_image(t[:, :3].numpy(), l2c, c2i, w,
                                       self.align, self.projection)
            t[:, :3] = torch.from_numpy(xyz).to(t.dtype)
            t[:, 6] = -t[:, 6]
        if results.get('gt_bboxes') is not None and \
                len(results['gt_bboxes']):
            off = w if self.align == 'caddn' else w - 1
            b = np.asarray(results['gt_bboxes']).copy()
            b[:, [0, 2]] = off - b[:, [2, 0]]
            results['gt_bboxes'] = b
        return results


@TRANSFORMS.register_module()
class MakeDepthTarget(BaseTransform):
    """Depth target at the feature stride, ``results['gt_depth']``
    (ceil(H / s), ceil(W / s)) float32, 0 = no depth.

    From the loaded depth map when there is one, else from the LiDAR points
    projected into the (possibly flipped) image; then the sparse average
    pooling of the reference implementation (``Cc-Hy/CMKD``, whose depth
    targets follow CaDDN, Reading et al., CVPR 2021). Non-finite or
    negative depth in a loaded map is an error naming the file.

    With several cameras (``LoadMultiViewImageFromFiles``) the target is
    (N, ceil(H / s), ceil(W / s)), one map per view, from the points
    projected into each.

    Args:
        stride (int): The output stride of the depth network (8 for the
            dilated ResNet of the reference). The target is refused by the
            model when it is not the stride of its feature map.
        max_time_lag (float, optional): Use only the points whose time lag
            (column 4, as ``LoadPointsFromMultiSweeps`` writes it, seconds)
            is at most this: 0 keeps the key frame's sweep, whose points
            lie where the image sees them (swept points of moving objects
            do not). None (default) uses every point.
    """

    def __init__(self, stride: int = 8,
                 max_time_lag: Optional[float] = None) -> None:
        if isinstance(stride, bool) or \
                not isinstance(stride, numbers.Integral) or stride < 1:
            raise ValueError(f'MakeDepthTarget: stride must be a positive '
                             f'int, got {stride!r}')
        self.stride = int(stride)
        self.max_time_lag = max_time_lag

    def _points(self, results: dict) -> np.ndarray:
        if 'points' not in results:
            raise KeyError(f'no depth map and no points for '
                           f'{_where(results)}')
        pts = results['points'].tensor.numpy()
        if self.max_time_lag is not None:
            if pts.shape[1] < 5:
                raise ValueError(
                    f'MakeDepthTarget(max_time_lag=...) needs the time lag '
                    f'of the points of {_where(results)} in column 4 '
                    f'(LoadPointsFromMultiSweeps), they have {pts.shape[1]} '
                    'columns')
            pts = pts[pts[:, 4] <= self.max_time_lag]
        return pts[:, :3]

    def transform(self, results: dict) -> dict:
        """Make ``gt_depth`` and record its stride as ``depth_stride``.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with ``gt_depth`` (ceil(H / s), ceil(W / s)),
            or (N, ...) for N views, and ``depth_stride`` = s (packed as a
            meta key by :class:`PackCMKDInputs`, so that the model can
            refuse a target of another stride than its feature map's).
        """
        check_image_size(results)
        dm: Optional[np.ndarray] = results.pop('depth_map', None)
        if dm is not None:
            if is_multiview(results):
                raise ValueError(f'{_where(results)}: a loaded depth map '
                                 'with several views is not supported; '
                                 'make the targets from the points')
            bad = ~np.isfinite(dm) | (dm < 0)
            if bad.any():
                raise ValueError(
                    f'depth map {results.get("depth_path", _where(results))}'
                    f' has {int(bad.sum())} non-finite or negative values')
            results['gt_depth'] = sparse_avg_pool(dm, self.stride)
        else:
            xyz = self._points(results)
            l2c, c2i = _calibration(results)
            if is_multiview(results):
                results['gt_depth'] = np.stack([
                    sparse_avg_pool(depth_map_from_points(
                        xyz, a, k, img.shape[:2]), self.stride)
                    for a, k, img in zip(l2c, c2i, results['img'])])
            else:
                results['gt_depth'] = sparse_avg_pool(depth_map_from_points(
                    xyz, l2c, c2i, _image_shape(results)), self.stride)
        results['depth_stride'] = self.stride
        return results


@TRANSFORMS.register_module()
class BEVAugToCameras(BaseTransform):
    """Move every camera with the points: after mmdet3d's global BEV
    augmentation (``GlobalRotScaleTrans``, ``RandomFlip3D`` with
    ``sync_2d=False``), ``lidar2cam`` of each view becomes ``lidar2cam @
    inv(A)``, A the (4, 4) that moved the points
    (:func:`~cmkd_mmdet3d.structures.geometry.bev_augmentation_matrix`, from
    ``transformation_3d_flow``, ``pcd_rotation``, ``pcd_scale_factor`` and
    ``pcd_trans``), so that an augmented point projects onto the pixel the
    original one did, and the images stay as they are. This is CMKD-MV's
    BEV augmentation (BEVDet's, ``update_img2lidar``): the teacher sees the
    augmented points, the student the same scene through its cameras.
    ``lidar2img`` is recomposed when present.

    Put it after the point augmentations and after the images are loaded.
    One camera (``lidar2cam`` (4, 4)) is updated the same way.
    """

    def transform(self, results: dict) -> dict:
        """Update the cameras.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``results`` with ``lidar2cam`` (and ``lidar2img``)
            updated and ``bev_aug_matrix`` (4, 4), A.
        """
        flow = [f for f in results.get('transformation_3d_flow', [])
                if f in BEV_AUG_STEPS]
        a = bev_augmentation_matrix(
            flow, results.get('pcd_rotation'),
            results.get('pcd_scale_factor', 1.0), results.get('pcd_trans'))
        results['bev_aug_matrix'] = a
        if not flow:
            return results
        inv = np.linalg.inv(a)
        l2c, c2i = _calibration(results)
        new = l2c @ inv
        multi = is_multiview(results)
        results['lidar2cam'] = list(new) if multi else new
        if 'lidar2img' in results:
            l2i = compose_lidar2img(new, c2i)
            results['lidar2img'] = list(l2i) if multi else l2i
        return results


@TRANSFORMS.register_module()
class PackCMKDInputs(Pack3DDetInputs):
    """``Pack3DDetInputs`` that also packs the depth target as
    ``data_sample.gt_depth`` (Hd, Wd), pseudo-label scores
    (``gt_scores_3d`` -> ``gt_instances_3d.scores_3d``) and the
    ``lidar2cam`` / ``has_labels`` / ``depth_stride`` meta keys, and
    Waymo's ``context_name`` / ``timestamp`` (what ``WaymoAPMetric`` finds a
    frame's ground truth by) when the dataset gives them.

    Before packing it refuses, naming the file (and the frame): an image
    whose size is not its info's or whose calibration does not fit it
    (:func:`check_image_size`), a depth target whose shape is not the
    image's at its ``depth_stride`` (a resize after ``MakeDepthTarget``),
    and, for training samples (with ``ann_info``), an info instance whose
    3D box has a non-finite value or a size <= 0 (a real KITTI
    ``label_2`` line with a negative h / w / l, read by mmdet3d's
    ``KittiDataset`` without a check;
    :func:`cmkd_mmdet3d.datasets.pseudo_labels.check_info_instances`).
    """

    def __init__(self, keys: tuple, meta_keys: Optional[tuple] = None,
                 **kwargs) -> None:
        if meta_keys is None:
            meta_keys = Pack3DDetInputs.__init__.__defaults__[0]
        meta_keys = tuple(meta_keys) + tuple(
            k for k in ('lidar2cam', 'cam2img', 'flip', 'img_shape',
                        'has_labels', 'depth_stride', 'context_name',
                        'timestamp') if k not in meta_keys)
        super().__init__(keys=keys, meta_keys=meta_keys, **kwargs)

    def transform(self, results: dict) -> dict:
        """Check the sample, then pack it as ``Pack3DDetInputs`` does.

        Args:
            results (dict): The pipeline results.

        Returns:
            dict: ``inputs`` and ``data_samples`` (with ``gt_depth`` and
            ``gt_instances_3d.scores_3d`` when the results have them).
        """
        check_image_size(results)
        if 'ann_info' in results and results.get('instances'):
            check_info_instances(
                results, results.get('lidar_path') or _where(results))
        depth = results.pop('gt_depth', None)
        if depth is not None and 'img' in results and \
                'depth_stride' in results:
            s = results['depth_stride']
            h, w = _image_shape(results)
            expected = (-(-h // s), -(-w // s))
            if is_multiview(results):
                expected = (len(results['img']), ) + expected
            if tuple(depth.shape) != expected:
                raise ValueError(
                    f'{_where(results)}: depth target {tuple(depth.shape)} '
                    f'is not the {h}x{w} image at its stride {s} '
                    f'{expected}: put MakeDepthTarget after every transform '
                    'that resizes the image')
        scores = results.pop('gt_scores_3d', None)
        if scores is not None and 'gt_labels_3d' in results and \
                len(scores) != len(results['gt_labels_3d']):
            raise ValueError(
                f'{_where(results)}: {len(scores)} pseudo-label scores for '
                f"{len(results['gt_labels_3d'])} boxes: a transform dropped "
                'boxes without their scores (leave ObjectRangeFilter / '
                'ObjectNameFilter out of a pseudo-labeled pipeline)')
        packed = super().transform(results)
        if depth is not None:
            packed['data_samples'].gt_depth = torch.from_numpy(
                np.ascontiguousarray(depth))
        if scores is not None and 'gt_instances_3d' in packed['data_samples']:
            packed['data_samples'].gt_instances_3d.scores_3d = \
                torch.as_tensor(np.asarray(scores, dtype=np.float32))
        return packed

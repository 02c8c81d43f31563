"""Loading an image with its calibration outside a dataset (inference on a
user's own images)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmdet3d.registry import TRANSFORMS
from mmdet3d.structures import Box3DMode, LiDARInstance3DBoxes

from ...structures.calibration import check_calib_fits_image
from ...structures.geometry import check_calibration, compose_lidar2img


@TRANSFORMS.register_module()
class LoadCalibratedImage(BaseTransform):
    """Load an image given with its calibration, as the camera student's
    test pipeline expects it from ``KittiDataset`` (``img``, ``img_path``,
    ``lidar2cam``, ``cam2img``, ``lidar2img``, LiDAR box type).

    Takes the place of ``LoadImageFromFile`` in the test pipeline of
    :class:`~cmkd_mmdet3d.apis.CMKDMono3DInferencer`.

    Required keys of the input: ``img`` (a path, or an (H, W, 3) BGR uint8
    array), ``lidar2cam`` (4, 4) and ``cam2img`` (3|4, 4); optional
    ``name`` (how errors name the image). A path is read by mmcv's
    ``LoadImageFromFile`` (colour, BGR; ``backend_args`` as there).

    Raises:
        ValueError: an image that cannot be read, or a calibration that is
            not finite, is singular, or does not fit the image
            (:func:`~cmkd_mmdet3d.structures.calibration.check_calib_fits_image`),
            each naming the image.
    """

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.load = LoadImageFromFile(color_type='color',
                                      backend_args=backend_args)

    def transform(self, single_input: dict) -> dict:
        """Args:
            single_input (dict): ``img``, ``lidar2cam``, ``cam2img``.

        Returns:
            dict: the results of a KITTI test sample for the pipeline's next
            transforms.
        """
        img = single_input['img']
        if isinstance(img, str):
            path = img
            try:
                loaded = self.load(dict(img_path=path))
            except Exception as err:  # missing file, no image decoder
                raise ValueError(f'cannot read image {path}: {err}') from None
            img = None if loaded is None else loaded.get('img')
            if img is None:
                raise ValueError(f'cannot read image {path}: not an image '
                                 'file that OpenCV decodes')
        else:
            path = single_input.get('name', '')
            img = np.asarray(img)
            if img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f'image {path or "array"} must be (H, W, 3)'
                                 f' BGR, got shape {img.shape}')
        where = f'image {path}' if path else 'the image array'
        lidar2cam, cam2img = check_calibration(single_input['lidar2cam'],
                                               single_input['cam2img'], where)
        check_calib_fits_image(cam2img, img.shape, where)
        cam2img = np.vstack([cam2img, [0., 0., 0., 1.]])
        return dict(
            img=img,
            img_path=path,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2],
            lidar2cam=lidar2cam.astype(np.float32),
            cam2img=cam2img.astype(np.float32),
            lidar2img=compose_lidar2img(lidar2cam, cam2img).astype(
                np.float32),
            box_type_3d=LiDARInstance3DBoxes,
            box_mode_3d=Box3DMode.LIDAR,
            sample_idx=single_input.get('index', 0))

"""Inference of the camera student on a user's own images.

mmdet3d 1.4's ``MonoDet3DInferencer`` cannot serve the CMKD student as it
is: it needs ``LoadImageFromFileMono3D`` and camera-frame boxes, takes the
calibration only from an info file, and its ``__call__`` visualises and
post-processes every prediction made so far again after each batch, so a
folder of N images returns N (N + 1) / 2 predictions. The inferencer here
keeps its base class (:class:`mmdet3d.apis.Base3DInferencer`: config,
checkpoint, device, test pipeline, collate, ``test_step``) and replaces the
input handling (image + calibration), the pictures (image with projected
boxes above a bird's eye view) and the outputs (KITTI label lines).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import cv2
import mmengine
import numpy as np
import torch
from mmdet3d.apis.inferencers.base_3d_inferencer import Base3DInferencer
from mmdet3d.registry import INFERENCERS, MODELS
from mmengine.dataset import Compose
from mmengine.runner import load_checkpoint
from torch import nn

from ..datasets.pseudo_labels import kitti_label_lines
from .onnx_export import onnx_test_step
from ..structures.calibration import (calib_from_intrinsics,
                                      calib_from_kitti, read_kitti_calib)
from ..structures.geometry import compose_lidar2img
from ..utils.atomic_io import atomic_open
from ..visualization.draw import render_prediction_panel

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')

Input = Dict[str, object]


def list_images(path: str) -> List[str]:
    """The image files of a folder (sorted), or ``[path]`` for a file.

    Raises:
        FileNotFoundError: naming ``path``, when it does not exist or a
            folder holds no image (``IMAGE_EXTENSIONS``).
    """
    if osp.isdir(path):
        files = sorted(
            osp.join(path, f) for f in os.listdir(path)
            if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise FileNotFoundError(
                f'no image ({", ".join(IMAGE_EXTENSIONS)}) in folder {path}')
        return files
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path} not found')
    return [path]


def calib_for_image(img_path: str,
                    calib: Optional[str] = None,
                    intrinsics: Optional[Sequence[float]] = None,
                    cam_height: Optional[float] = None) -> dict:
    """``lidar2cam`` (4, 4) and ``cam2img`` (4, 4) of one image.

    Args:
        img_path: the image.
        calib: a KITTI ``calib/*.txt`` file for every image, or a folder
            of them named as the images (``000123.png`` ->
            ``000123.txt``, the KITTI object layout).
        intrinsics: ``(fx, fy, cx, cy)`` px, with ``cam_height`` (m), for
            a level camera without a calibration file
            (:func:`~cmkd_mmdet3d.structures.calibration.calib_from_intrinsics`).

    Returns:
        dict: ``lidar2cam`` and ``cam2img`` (float64), the keys an input of
        :class:`CMKDMono3DInferencer` takes beside ``img``.
    """
    if (calib is None) == (intrinsics is None):
        raise ValueError('give either a KITTI calibration file / folder or '
                         'the intrinsics (fx, fy, cx, cy) with the camera '
                         'height')
    if calib is not None:
        path = calib
        if osp.isdir(calib):
            stem = osp.splitext(osp.basename(img_path))[0]
            path = osp.join(calib, stem + '.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'calibration {path} of image {img_path} not found')
        lidar2cam, cam2img = calib_from_kitti(read_kitti_calib(path), path)
        return dict(lidar2cam=lidar2cam, cam2img=cam2img)
    if cam_height is None:
        raise ValueError('intrinsics need the camera height above the road '
                         '(m)')
    lidar2cam, cam2img = calib_from_intrinsics(intrinsics, cam_height)
    return dict(lidar2cam=lidar2cam, cam2img=cam2img)


def speed_up_for_inference(model: nn.Module, channels_last: bool = True,
                           fuse_conv_bn: bool = True) -> nn.Module:
    """Make an eval-mode model faster on CPU without changing what it
    computes (up to float rounding: 5e-6 on the KITTI student's raw
    outputs; README "CPU inference").

    Args:
        model (nn.Module): in eval mode (folded BN uses the running
            statistics).
        channels_last (bool): every ``Conv2d``'s weight in the
            channels-last memory format (the KITTI student: 1.48x faster on
            2 cores).
        fuse_conv_bn (bool): every BN folded into the conv before it
            (mmcv's ``fuse_conv_bn``).

    Returns:
        nn.Module: ``model``, changed in place.

    Raises:
        RuntimeError: a model in training mode.
    """
    if model.training and (channels_last or fuse_conv_bn):
        raise RuntimeError('speed_up_for_inference needs a model in eval '
                           'mode: folding BN uses its running statistics')
    if fuse_conv_bn:
        from mmcv.cnn import fuse_conv_bn as fuse
        fuse(model)
    if channels_last:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.to(memory_format=torch.channels_last)
    return model


@INFERENCERS.register_module(name='cmkd-mono3d')
@INFERENCERS.register_module()
class CMKDMono3DInferencer(Base3DInferencer):
    """Run a camera student (``CMKDMono3D``) on images with calibrations.

    Args:
        model (str or dict): the student's config (file, ``Config`` or
            dict); the test pipeline's ``LoadImageFromFile`` is replaced by
            :class:`~cmkd_mmdet3d.datasets.transforms.LoadCalibratedImage`.
        weights (str): a checkpoint of the student config, an extracted
            student (``tools/model_converters/extract_student.py``) or a
            full CMKD checkpoint (``student.*`` keys; the teacher's keys are
            left out). Loaded strictly: a key missing from the checkpoint
            or unknown to the model is an error. Or an ``.onnx`` file of
            :func:`~cmkd_mmdet3d.apis.export_onnx`: the network then runs
            in onnxruntime, the config gives the pipeline and the box
            decoding.
        device (str, optional): ``'cpu'``, ``'cuda:0'``... (default: the
            available device).
        show_progress (bool): a progress bar over the images.
        channels_last (bool): 2D conv weights in the channels-last memory
            format (:func:`speed_up_for_inference`).
        fuse_conv_bn (bool): BN folded into the conv before it.

    Inputs: a dict, or a list of dicts, with ``img`` (a path, or an
    (H, W, 3) BGR array) and ``lidar2cam`` / ``cam2img``
    (:func:`calib_for_image` makes them). ``__call__(inputs, batch_size=1,
    out_dir='', pred_score_thr=0.3, ...)`` returns ``dict(predictions=[...],
    visualization=[...])``: per image ``bboxes_3d`` (N, 7) LiDAR boxes
    (x, y, z bottom centre, l, w, h, yaw; m, rad), ``scores_3d``,
    ``labels_3d`` and its KITTI label lines; with ``out_dir`` it writes
    ``<out_dir>/labels/<image stem>.txt`` (the 16 KITTI columns, score
    last) and ``<out_dir>/vis/<image stem>.png``.
    """

    preprocess_kwargs: set = {'cam_type'}
    forward_kwargs: set = set()
    visualize_kwargs: set = {
        'return_vis', 'show', 'wait_time', 'draw_pred', 'pred_score_thr',
        'img_out_dir', 'no_save_vis', 'cam_type_dir'
    }
    postprocess_kwargs: set = {
        'print_result', 'pred_out_dir', 'return_datasample', 'no_save_pred'
    }

    def __init__(self,
                 model,
                 weights: str,
                 device: Optional[str] = None,
                 show_progress: bool = True,
                 channels_last: bool = False,
                 fuse_conv_bn: bool = False) -> None:
        super().__init__(model=model, weights=weights, device=device,
                         scope='mmdet3d')
        self.show_progress = show_progress
        if self.onnx is None:
            speed_up_for_inference(self.model, channels_last, fuse_conv_bn)

    # ----------------------------------------------------------- building
    def _init_model(self, cfg, weights: str, device: str = 'cpu'):
        """Build the student and load ``weights`` strictly (see the class
        docstring), or open the ONNX file; class names from the
        checkpoint's ``dataset_meta`` (the ONNX file's metadata) or the
        config's test dataset."""
        cfg.model.train_cfg = None
        model = MODELS.build(cfg.model)
        self.onnx = None
        if str(weights).endswith('.onnx'):
            from .onnx_export import ONNXStudent
            self.onnx = ONNXStudent(weights)
            meta = dict(dataset_meta=dict(
                classes=self.onnx.meta.get('classes')))
        else:
            checkpoint = load_checkpoint(model, weights, map_location='cpu',
                                         strict=True)
            meta = checkpoint.get('meta', {}) if isinstance(
                checkpoint, dict) else {}
        classes = meta.get('dataset_meta', {}).get('classes') or \
            cfg.test_dataloader.dataset.get('metainfo', {}).get('classes') \
            or cfg.get('class_names')
        if not classes:
            raise KeyError(f'{weights}: no class names in the checkpoint '
                           "(meta.dataset_meta.classes) nor in the config's "
                           'test_dataloader.dataset.metainfo.classes')
        model.dataset_meta = dict(classes=list(classes))
        model.cfg = cfg
        model.to(device)
        model.eval()
        return model

    def _init_pipeline(self, cfg):
        """The config's test pipeline with ``LoadImageFromFile`` replaced by
        ``LoadCalibratedImage``."""
        pipeline = [dict(t) for t in cfg.test_dataloader.dataset.pipeline]
        idx = self._get_transform_idx(pipeline, 'LoadImageFromFile')
        if idx == -1:
            raise ValueError('the test pipeline of the config has no '
                             'LoadImageFromFile to replace')
        pipeline[idx] = dict(type='LoadCalibratedImage')
        return Compose(pipeline)

    def _init_visualizer(self, cfg):
        """No mmengine visualizer: the pictures are drawn by
        :func:`~cmkd_mmdet3d.visualization.draw.render_prediction_panel`."""
        return None

    # -------------------------------------------------------------- steps
    def _inputs_to_list(self, inputs: Union[Input, Sequence[Input]],
                        **kwargs) -> List[Input]:
        """One dict per image, numbered (``index``) and named (``name``:
        the image's file stem, or its number for an array)."""
        items = [inputs] if isinstance(inputs, dict) else list(inputs)
        out = []
        for i, item in enumerate(items):
            for key in ('img', 'lidar2cam', 'cam2img'):
                if key not in item:
                    raise KeyError(f'input {i} has no {key!r} (keys: '
                                   f'{sorted(item)})')
            item = dict(item, index=i)
            if isinstance(item['img'], str):
                item.setdefault(
                    'name', osp.splitext(osp.basename(item['img']))[0])
            else:
                item.setdefault('name', f'{i:06d}')
            out.append(item)
        names = [item['name'] for item in out]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f'images with the same name {dup[:5]} would '
                             'overwrite each other\'s outputs: give each a '
                             "unique 'name'")
        return out

    def __call__(self,
                 inputs: Union[Input, Sequence[Input]],
                 batch_size: int = 1,
                 return_datasamples: bool = False,
                 **kwargs) -> dict:
        """Predict, draw and write, batch by batch, each image once.

        Args:
            inputs: see the class docstring.
            batch_size (int): images per forward.
            return_datasamples (bool): predictions as ``Det3DDataSample``
                instead of dicts.
            **kwargs: ``out_dir`` (labels/ and vis/ under it),
                ``pred_score_thr`` (boxes drawn, default 0.3),
                ``no_save_vis``, ``no_save_pred``, ``print_result``.

        Returns:
            dict: ``predictions`` (one per image, in input order) and
            ``visualization`` (the pictures, BGR, when drawn).
        """
        pre_kw, fwd_kw, vis_kw, post_kw = self._dispatch_kwargs(**kwargs)
        items = self._inputs_to_list(inputs)
        results = dict(predictions=[], visualization=[])
        bar = mmengine.ProgressBar(len(items)) if self.show_progress \
            else None
        done = 0
        for data in self.preprocess(items, batch_size=batch_size):
            preds = self.forward(data, **fwd_kw)
            batch = items[done:done + len(preds)]
            done += len(preds)
            vis = self.visualize(batch, preds, **vis_kw)
            out = self.postprocess(preds, vis, batch, return_datasamples,
                                   **post_kw)
            results['predictions'].extend(out['predictions'])
            if out['visualization']:
                results['visualization'].extend(out['visualization'])
            if bar is not None:
                for _ in preds:
                    bar.update()
        return results

    def forward(self, inputs: dict, **kwargs) -> list:
        """``test_step`` of the model, or of the ONNX file
        (:func:`~cmkd_mmdet3d.apis.onnx_export.onnx_test_step`)."""
        if self.onnx is None:
            return super().forward(inputs, **kwargs)
        return onnx_test_step(self.onnx, self.model, inputs)

    def visualize(self,
                  inputs: List[Input],
                  preds,
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: int = 0,
                  draw_pred: bool = True,
                  pred_score_thr: float = 0.3,
                  no_save_vis: bool = False,
                  img_out_dir: str = '',
                  cam_type_dir: str = '') -> Optional[List[np.ndarray]]:
        """The image with the boxes of score >= ``pred_score_thr``
        projected (green) above a bird's eye view of them, written to
        ``<img_out_dir>/vis/<name>.png``.

        Returns:
            list of (H', W, 3) BGR pictures when ``return_vis``, else None.
        """
        if no_save_vis:
            img_out_dir = ''
        if not img_out_dir and not return_vis:
            return None
        pictures = []
        for item, pred in zip(inputs, preds):
            img = item['img']
            if isinstance(img, str):
                img = cv2.imread(img)
            inst = pred.pred_instances_3d
            keep = (inst.scores_3d >= pred_score_thr).cpu().numpy()
            corners = inst.bboxes_3d.corners.cpu().numpy()[keep] \
                if draw_pred else np.zeros((0, 8, 3))
            pic = render_prediction_panel(
                np.ascontiguousarray(img), None,
                compose_lidar2img(item['lidar2cam'], item['cam2img']),
                np.zeros((0, 8, 3)), corners,
                title=f"{item['name']}: {len(corners)} boxes, score >= "
                f'{pred_score_thr}',
                bev_range=self._bev_range())
            if img_out_dir:
                path = osp.join(img_out_dir, 'vis', f"{item['name']}.png")
                ok, buf = cv2.imencode('.png', pic)
                if not ok:
                    raise RuntimeError(f'OpenCV could not encode the picture '
                                       f'of {item["name"]} as PNG')
                with atomic_open(path, 'wb') as f:
                    f.write(buf.tobytes())
            pictures.append(pic)
        return pictures if return_vis else None

    def _bev_range(self):
        """((x min, x max), (y min, y max)) of the student's BEV grid."""
        lift = getattr(self.model, 'lift_neck', None)
        r = getattr(lift, 'point_cloud_range', None)
        if r is None:
            return ((0.0, 50.0), (-30.0, 30.0))
        return ((r[0], r[3]), (r[1], r[4]))

    def postprocess(self,
                    preds,
                    visualization,
                    inputs: List[Input],
                    return_datasample: bool = False,
                    print_result: bool = False,
                    no_save_pred: bool = False,
                    pred_out_dir: str = '') -> dict:
        """Per image a dict (``bboxes_3d``, ``scores_3d``, ``labels_3d`` as
        lists, ``kitti_lines``), and ``<pred_out_dir>/labels/<name>.txt``
        (empty when nothing is detected)."""
        classes = self.model.dataset_meta['classes']
        out = []
        for item, pred in zip(inputs, preds):
            inst = pred.pred_instances_3d
            entry = dict(
                bboxes_3d=inst.bboxes_3d.tensor.cpu().numpy()[:, :7],
                scores_3d=inst.scores_3d.cpu().numpy(),
                labels_3d=inst.labels_3d.cpu().numpy())
            h, w = pred.metainfo['ori_shape'][:2]
            lines = kitti_label_lines(
                entry, classes, item['lidar2cam'], item['cam2img'],
                (h, w)) if len(entry['scores_3d']) else []
            if pred_out_dir and not no_save_pred:
                path = osp.join(pred_out_dir, 'labels', f"{item['name']}.txt")
                with atomic_open(path, 'w') as f:
                    f.write(''.join(line + '\n' for line in lines))
            if print_result:
                print(f"{item['name']}:", *lines, sep='\n  ')
            if return_datasample:
                out.append(pred)
            else:
                out.append(dict(
                    name=item['name'],
                    bboxes_3d=entry['bboxes_3d'].tolist(),
                    scores_3d=entry['scores_3d'].tolist(),
                    labels_3d=entry['labels_3d'].tolist(),
                    kitti_lines=lines))
        return dict(predictions=out, visualization=visualization)

"""ONNX export of the camera student, and the onnxruntime path that runs it.

The graph takes what the student's data preprocessor takes, at one fixed
input size: the image after the test pipeline (B, 3, H, W, float32 pixel
values in the pipeline's channel order) and its calibration, ``lidar2cam``
(B, 4, 4) and ``cam2img`` (B, 4, 4), and returns the dense head's raw
outputs (for the anchor head: cls (B, A * K, Y', X'), box (B, A * 7, Y',
X') and direction (B, A * 2, Y', X') maps). Channel conversion,
normalisation and padding are inside the graph, with the preprocessor's own
``mean``, ``std`` and ``pad_size_divisor``. The lift runs as
``lift_impl='gather'`` (standard operators, same numerics as the sparse
training path). Box decoding and NMS stay outside the graph, in
:func:`~cmkd_mmdet3d.models.detectors.decode_head_outputs`, the function
the PyTorch ``predict`` uses too.

The nesting of the outputs (a pytree spec), the input size and the names
are stored in the ONNX file's metadata, so :class:`ONNXStudent` hands the
decoder the same structure the head's ``forward`` returns.
"""
import contextlib
import json
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils import _pytree as pytree

from ..utils.atomic_io import atomic_path

INPUT_NAMES = ('img', 'lidar2cam', 'cam2img')
META_KEY = 'cmkd_mmdet3d'


@contextlib.contextmanager
def gather_lift(model: nn.Module) -> Iterator[nn.Module]:
    """Run every ``DepthLiftNeck`` of ``model`` with the standard-operator
    lift (``lift_impl='gather'``) inside the block, and restore it after."""
    from ..models.necks import DepthLiftNeck
    necks = [m for m in model.modules() if isinstance(m, DepthLiftNeck)]
    saved = [m.lift_impl for m in necks]
    try:
        for m in necks:
            m.lift_impl = 'gather'
        yield model
    finally:
        for m, impl in zip(necks, saved):
            m.lift_impl = impl


class StudentForExport(nn.Module):
    """The student from pipeline image to dense-head outputs, as one graph.

    Args:
        model (nn.Module): a built ``CMKDMono3D`` with a ``bbox_head`` (or a
            ``CMKD`` distiller: its student is taken), in eval mode.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        student = getattr(model, 'student', model)
        if getattr(student, 'bbox_head', None) is None:
            raise ValueError(f'{type(student).__name__} has no bbox_head: '
                             'only a student that predicts boxes can be '
                             'exported')
        self.student = student
        pre = student.data_preprocessor
        self.channel_conversion = bool(
            getattr(pre, '_channel_conversion', False))
        self.normalize = bool(getattr(pre, '_enable_normalize', False))
        if self.normalize:
            self.register_buffer('mean', pre.mean.detach().clone().float(),
                                 persistent=False)
            self.register_buffer('std', pre.std.detach().clone().float(),
                                 persistent=False)
        self.pad_size_divisor = int(getattr(pre, 'pad_size_divisor', 1))
        self.pad_value = float(getattr(pre, 'pad_value', 0))

    def preprocess(self, img: Tensor) -> Tensor:
        """What ``Det3DDataPreprocessor`` does to a batch of same-size
        images: BGR <-> RGB, ``(img - mean) / std``, pad bottom / right to
        the divisor with ``pad_value``."""
        if self.channel_conversion:
            img = img[:, [2, 1, 0]]
        img = img.float()
        if self.normalize:
            img = (img - self.mean) / self.std
        h, w = img.shape[-2:]
        d = self.pad_size_divisor
        ph, pw = (-h) % d, (-w) % d
        if ph or pw:
            img = F.pad(img, (0, pw, 0, ph), value=self.pad_value)
        return img

    def forward(self, img: Tensor, lidar2cam: Tensor,
                cam2img: Tensor) -> tuple:
        """Dense-head outputs of the student.

        Args:
            img (Tensor): (B, 3, H, W) float32 pixel values after the test
                pipeline, in its channel order (BGR for ``mmcv`` loading).
            lidar2cam (Tensor): (B, 4, 4) LiDAR -> rectified camera.
            cam2img (Tensor): (B, 4, 4) or (B, 3, 4) camera -> image, for
                the pipeline's image size.

        Returns:
            tuple: ``bbox_head.forward`` of the BEV features.
        """
        student = self.student
        x = self.preprocess(img)
        out = student.img_backbone(x)
        logits = student.lift_logits(out, cam2img, tuple(x.shape[-2:]))
        bev = student.lift_neck(logits, out['feats'], lidar2cam,
                                cam2img[:, :3], tuple(x.shape[-2:]))
        return student.bbox_head(student.bev_head_inputs(bev))


def export_onnx(model: nn.Module,
                out_file: str,
                img_shape: Tuple[int, int],
                batch_size: int = 1,
                opset_version: Optional[int] = None,
                example: Optional[Sequence[Tensor]] = None) -> dict:
    """Export the student of ``model`` to ``out_file`` (written atomically).

    The export traces on CPU: the student is moved there (in place).

    Args:
        model (nn.Module): ``CMKDMono3D`` (or ``CMKD``) with its weights.
        out_file (str): the ``.onnx`` file.
        img_shape (tuple): (H, W) of the pipeline's images, px.
        batch_size (int): B of the graph (fixed).
        opset_version (int, optional): ONNX opset; the exporter's default
            if None. torch's ``dynamo`` exporter is used (the TorchScript
            one traces shapes as tensors, which the lift's checks refuse).
        example (sequence[Tensor], optional): (img, lidar2cam, cam2img) to
            trace with; random pixels and an identity-free KITTI-like
            calibration otherwise (the graph does not depend on them).

    Returns:
        dict: the metadata stored in the file (``img_shape``,
        ``batch_size``, ``outputs`` (names and ``shapes``), ``treespec``,
        ``classes`` (of ``model.dataset_meta``, when it has them)).
    """
    wrapper = StudentForExport(model).eval()
    h, w = (int(v) for v in img_shape)
    if example is None:
        example = example_inputs(batch_size, (h, w))
    img, l2c, c2i = (torch.as_tensor(t).float().cpu() for t in example)
    example = (img, l2c, torch.from_numpy(_homogeneous(c2i.numpy())))
    if tuple(example[0].shape) != (batch_size, 3, h, w):
        raise ValueError(f'example image {tuple(example[0].shape)} is not '
                         f'({batch_size}, 3, {h}, {w})')
    wrapper = wrapper.cpu()
    with torch.no_grad(), gather_lift(wrapper):
        outs = wrapper(*example)
        leaves, spec = pytree.tree_flatten(outs)
        names = [f'out{i}' for i in range(len(leaves))]
        meta = dict(img_shape=[h, w], batch_size=batch_size, outputs=names,
                    treespec=pytree.treespec_dumps(spec),
                    shapes=[list(t.shape) for t in leaves])
        classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
        if classes:
            meta['classes'] = list(classes)
        kwargs = dict(input_names=list(INPUT_NAMES), output_names=names,
                      dynamo=True, verbose=False, optimize=True,
                      external_data=False)
        if opset_version is not None:
            kwargs['opset_version'] = opset_version
        with atomic_path(out_file) as tmp:
            torch.onnx.export(wrapper, example, tmp, **kwargs)
            _stamp(tmp, meta)
    return meta


def example_inputs(batch_size: int,
                   img_shape: Tuple[int, int]) -> Tuple[Tensor, ...]:
    """Random pixels and a level KITTI-like camera 1.65 m above the road
    (:func:`~cmkd_mmdet3d.structures.calibration.calib_from_intrinsics`
    with the focal length of KITTI's P2 scaled to the image)."""
    from ..structures.calibration import calib_from_intrinsics
    h, w = img_shape
    f = 721.5377 * w / 1242
    l2c, c2i = calib_from_intrinsics((f, f, w / 2, h / 2), 1.65)
    g = torch.Generator().manual_seed(0)
    img = torch.rand(batch_size, 3, h, w, generator=g) * 255
    rep = (lambda m: torch.as_tensor(m, dtype=torch.float32).expand(
        batch_size, 4, 4).clone())
    return img, rep(l2c), rep(c2i)


def _stamp(path: str, meta: dict) -> None:
    """Store ``meta`` (JSON) in the ONNX file's ``metadata_props``."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    if any(t.data_location == onnx.TensorProto.EXTERNAL
           for t in m.graph.initializer):
        raise RuntimeError(f'{path}: the exporter wrote the weights to an '
                           'external file; export a smaller model')
    for p in list(m.metadata_props):
        if p.key == META_KEY:
            m.metadata_props.remove(p)
    entry = m.metadata_props.add()
    entry.key, entry.value = META_KEY, json.dumps(meta)
    onnx.save(m, path)


class ONNXStudent:
    """A student exported by :func:`export_onnx`, run by onnxruntime.

    Args:
        onnx_file (str): the ``.onnx`` file.
        num_threads (int, optional): onnxruntime's intra-op threads
            (default: torch's ``get_num_threads()``, as the PyTorch path).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a file without the export's metadata (another graph).
    """

    def __init__(self, onnx_file: str,
                 num_threads: Optional[int] = None) -> None:
        import onnxruntime as ort
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file {onnx_file} not found')
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads or torch.get_num_threads()
        self.session = ort.InferenceSession(
            onnx_file, opts, providers=['CPUExecutionProvider'])
        props = self.session.get_modelmeta().custom_metadata_map
        if META_KEY not in props:
            raise ValueError(f'{onnx_file} was not written by '
                             'cmkd_mmdet3d.apis.export_onnx (no '
                             f'{META_KEY!r} metadata)')
        self.meta = json.loads(props[META_KEY])
        self.spec = pytree.treespec_loads(self.meta['treespec'])
        self.img_shape = tuple(self.meta['img_shape'])
        self.batch_size = int(self.meta['batch_size'])
        self.onnx_file = onnx_file

    def __call__(self, img, lidar2cam, cam2img) -> tuple:
        """Dense-head outputs, nested as the head's ``forward`` returns
        them.

        Args:
            img: (B, 3, H, W) pipeline images (tensor or array; H, W and B
                as exported).
            lidar2cam: (B, 4, 4).
            cam2img: (B, 4, 4) or (B, 3, 4).

        Returns:
            tuple: torch tensors (CPU).
        """
        img, l2c, c2i = (_array(x) for x in (img, lidar2cam, cam2img))
        c2i = _homogeneous(c2i)
        want = (self.batch_size, 3) + self.img_shape
        if img.shape != want:
            raise ValueError(f'{self.onnx_file} takes images {want} (B, 3, '
                             f'H, W), got {img.shape}: export it again for '
                             'this size (tools/deployment/export_onnx.py '
                             '--shape)')
        for key, m in (('lidar2cam', l2c), ('cam2img', c2i)):
            if m.shape != (self.batch_size, 4, 4):
                raise ValueError(f'{key} must be ({self.batch_size}, 4, 4), '
                                 f'got {m.shape}')
        leaves = self.session.run(None, dict(zip(INPUT_NAMES,
                                                 (img, l2c, c2i))))
        return pytree.tree_unflatten([torch.from_numpy(x) for x in leaves],
                                     self.spec)

    def predict(self, img, lidar2cam, cam2img, bbox_head: nn.Module,
                batch_input_metas: List[dict]):
        """Boxes: :meth:`__call__` then
        :func:`~cmkd_mmdet3d.models.detectors.decode_head_outputs` with the
        student's head (built from the config; its weights are not
        used)."""
        from ..models.detectors import decode_head_outputs
        with torch.no_grad():
            return decode_head_outputs(bbox_head,
                                       self(img, lidar2cam, cam2img),
                                       batch_input_metas)


def onnx_test_step(runner: ONNXStudent, model: nn.Module,
                   data: dict) -> list:
    """``model.test_step(data)`` with the network run by onnxruntime.

    Args:
        runner (ONNXStudent): the exported student.
        model (nn.Module): the student built from its config (for reading
            the calibration of the samples and for its head's decoding;
            its weights are not used).
        data (dict): a collated batch of the test pipeline: ``inputs.img``
            (list of (3, H, W) uint8 tensors) and ``data_samples``.

    Returns:
        list[Det3DDataSample]: the samples with ``pred_instances_3d``.
    """
    student = getattr(model, 'student', model)
    imgs, samples = data['inputs']['img'], data['data_samples']
    shapes = {tuple(im.shape[-2:]) for im in imgs}
    if len(shapes) != 1:
        raise ValueError(f'images of different sizes {sorted(shapes)} in '
                         'one batch: the ONNX graph takes one size')
    b = runner.batch_size
    if len(imgs) % b:
        raise ValueError(f'{len(imgs)} images do not make batches of the '
                         f'exported batch size {b}')
    results = []
    for i in range(0, len(imgs), b):
        part = samples[i:i + b]
        img = torch.stack([im.float() for im in imgs[i:i + b]])
        img, l2c, c2i, _ = student.camera_inputs(dict(imgs=img), part)
        results += runner.predict(img, l2c, c2i, student.bbox_head,
                                  [s.metainfo for s in part])
    return student.add_pred_to_datasample(samples, results)


def same_detections(a, b, atol: float = 1e-4) -> bool:
    """Whether two predictions hold the same boxes, in any order.

    Args:
        a, b: ``InstanceData`` with ``bboxes_3d`` (N, 7+), ``scores_3d``
            (N,) and ``labels_3d`` (N,).
        atol (float): largest difference of a box parameter or a score.

    Returns:
        bool: the same count, and a one-to-one pairing of boxes of the same
        label whose parameters and scores differ by at most ``atol`` (the
        order of boxes with near-equal scores may differ between two
        backends).
    """
    if len(a.scores_3d) != len(b.scores_3d):
        return False
    if len(a.scores_3d) == 0:
        return True
    ta = torch.cat([a.bboxes_3d.tensor, a.scores_3d[:, None]], 1).float()
    tb = torch.cat([b.bboxes_3d.tensor, b.scores_3d[:, None]], 1).float()
    if ta.shape != tb.shape:
        return False
    close = ((ta[:, None] - tb[None]).abs().amax(-1) <= atol) & \
        (a.labels_3d[:, None] == b.labels_3d[None])
    free = torch.ones(len(tb), dtype=torch.bool)
    for row in close:
        hit = (row & free).nonzero()
        if len(hit) == 0:
            return False
        free[hit[0, 0]] = False
    return True


def _homogeneous(c2i: np.ndarray) -> np.ndarray:
    """(B, 3, 4) camera matrices -> (B, 4, 4) with a last row [0 0 0 1];
    (B, 4, 4) as they are."""
    if c2i.ndim == 3 and c2i.shape[1:] == (3, 4):
        last = np.zeros((len(c2i), 1, 4), np.float32)
        last[..., 3] = 1
        c2i = np.concatenate([c2i, last], 1)
    return np.ascontiguousarray(c2i, dtype=np.float32)


def _array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float32)

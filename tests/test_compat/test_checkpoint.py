"""Tests of cmkd_mmdet3d.compat: each shim on its own."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from cmkd_mmdet3d import compat
from cmkd_mmdet3d.evaluation import rotate_iou as riou

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ----------------------------------------------------------------------------
# rotated IoU: an independent polygon-clipping reference
# ----------------------------------------------------------------------------


def _kernel_corners(box):
    """Corners as mmdet3d's CUDA kernel builds them: R(-angle) @ local + c."""
    x, y, w, h, a = box
    local = np.array([[-w / 2, -h / 2], [-w / 2, h / 2], [w / 2, h / 2],
                      [w / 2, -h / 2]])
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return local @ rot.T + np.array([x, y])


def _area(poly):
    if len(poly) < 3:
        return 0.0
    x, y = np.asarray(poly).T
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _clip(subject, clipper):
    """Sutherland-Hodgman clipping of a polygon by a convex polygon."""
    # orient the clipper counter-clockwise
    cx, cy = np.asarray(clipper).T
    if np.dot(cx, np.roll(cy, -1)) - np.dot(cy, np.roll(cx, -1)) < 0:
        clipper = clipper[::-1]
    out = [tuple(p) for p in subject]
    for i in range(len(clipper)):
        a, b = np.asarray(clipper[i]), np.asarray(clipper[(i + 1) % len(clipper)])

        def inside(p):
            return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0

        def cross_point(p, q):
            p, q = np.asarray(p), np.asarray(q)
            d1, d2 = q - p, b - a
            t = ((a[0] - p[0]) * d2[1] - (a[1] - p[1]) * d2[0]) / (
                d1[0] * d2[1] - d1[1] * d2[0])
            return tuple(p + t * d1)

        inp, out = out, []
        for j in range(len(inp)):
            cur, prev = inp[j], inp[j - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cross_point(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross_point(prev, cur))
        if not out:
            break
    return out


def _reference_overlaps(boxes, qboxes, criterion):
    res = np.zeros((len(boxes), len(qboxes)))
    for i, b in enumerate(boxes):
        for j, q in enumerate(qboxes):
            inter = _area(_clip(_kernel_corners(b), _kernel_corners(q)))
            a1, a2 = b[2] * b[3], q[2] * q[3]
            # as mmdet3d's CUDA kernel: 0 divides by the query box's area
            res[i, j] = {
                -1: inter / (a1 + a2 - inter),
                0: inter / a2,
                1: inter / a1
            }.get(criterion, inter)
    return res


def _random_boxes(rng, n):
    return np.stack([
        rng.uniform(-3, 3, n), rng.uniform(-3, 3, n), rng.uniform(0.5, 4, n),
        rng.uniform(0.5, 4, n), rng.uniform(-np.pi, np.pi, n)
    ], axis=1)


@pytest.mark.parametrize('criterion', [-1, 0, 1, 2])
def test_rotate_iou_cpu_matches_polygon_clipping(criterion):
    rng = np.random.default_rng(criterion + 10)
    boxes, qboxes = _random_boxes(rng, 30), _random_boxes(rng, 20)
    # a few exact duplicates and a disjoint pair
    qboxes[:3] = boxes[:3]
    qboxes[3] = [100, 100, 1, 1, 0]
    ours = compat.rotate_iou_cpu(boxes, qboxes, criterion)
    ref = _reference_overlaps(boxes, qboxes, criterion)
    assert ours.shape == (30, 20) and ours.dtype == np.float32
    assert (ref > 0).sum() > 50, 'the random boxes should overlap often'
    np.testing.assert_allclose(ours, ref, atol=2e-5 * max(1, ref.max()))
    if criterion == -1:
        np.testing.assert_allclose(np.diag(ours[:3, :3]), 1, atol=1e-5)
    assert np.all(ours[:, 3] == 0)


def test_rotate_iou_orientation_is_the_kernels():
    # A 4x1 box rotated by +30 degrees in the kernel's (clockwise) sense
    # overlaps a thin probe placed along that direction fully, while the
    # mirrored probe is hit only near the centre.
    a = np.deg2rad(30)
    box = np.array([[0, 0, 4, 1, a]])
    along = np.array([[1.5 * np.cos(a), -1.5 * np.sin(a), 0.2, 0.2, 0]])
    mirrored = np.array([[1.5 * np.cos(a), 1.5 * np.sin(a), 0.2, 0.2, 0]])
    assert compat.rotate_iou_cpu(along, box, 1)[0, 0] == pytest.approx(1, abs=1e-5)
    assert compat.rotate_iou_cpu(mirrored, box, 1)[0, 0] == pytest.approx(0, abs=1e-6)
    # criterion 0 normalises by the query box (the second argument)
    assert compat.rotate_iou_cpu(box, along, 0)[0, 0] == pytest.approx(1, abs=1e-5)


def test_rotate_iou_cpu_empty():
    assert compat.rotate_iou_cpu(np.zeros((0, 5)), np.zeros((4, 5))).shape == (0, 4)
    assert compat.rotate_iou_cpu(np.zeros((2, 5)), np.zeros((0, 5))).shape == (2, 0)


def test_our_rotate_iou_is_what_mmdet3d_imports():
    from mmdet3d.evaluation.functional.kitti_utils import eval as kitti_eval
    from mmdet3d.evaluation.functional.kitti_utils import rotate_iou
    assert rotate_iou.rotate_iou_gpu_eval is compat.rotate_iou_eval
    boxes = _random_boxes(np.random.default_rng(0), 5)
    ref = _reference_overlaps(boxes, boxes, -1)
    np.testing.assert_allclose(
        kitti_eval.bev_box_overlap(boxes, boxes), ref, atol=2e-5)


def test_dispatch_falls_back_to_cpu_when_the_kernel_fails(monkeypatch):
    def broken():
        raise AttributeError("module 'numpy' has no attribute 'row_stack'")

    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    monkeypatch.setattr(riou, '_cuda_rotate_iou_usable', lambda: True)
    monkeypatch.setattr(riou, '_load_cuda_kernel', broken)
    boxes = _random_boxes(np.random.default_rng(1), 4)
    with pytest.warns(UserWarning, match='exact CPU path'):
        out = compat.rotate_iou_eval(boxes, boxes)
    np.testing.assert_allclose(out, compat.rotate_iou_cpu(boxes, boxes))
    assert riou._CUDA_KERNEL is False


def test_dispatch_uses_a_working_kernel(monkeypatch):
    calls = []

    def kernel(b, q, criterion=-1, device_id=0):
        calls.append(criterion)
        return np.full((len(b), len(q)), 0.5, np.float32)

    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    monkeypatch.setattr(riou, '_cuda_rotate_iou_usable', lambda: True)
    monkeypatch.setattr(riou, '_load_cuda_kernel', lambda: kernel)
    boxes = _random_boxes(np.random.default_rng(1), 3)
    assert (compat.rotate_iou_eval(boxes, boxes, 2) == 0.5).all()
    assert calls == [2]
    monkeypatch.setenv('CMKD_KITTI_IOU', 'cpu')
    monkeypatch.setattr(riou, '_CUDA_KERNEL', None)
    compat.rotate_iou_eval(boxes, boxes)
    assert calls == [2]


# ----------------------------------------------------------------------------
# np.long
# ----------------------------------------------------------------------------


def test_patch_numpy_long(monkeypatch):
    if hasattr(np, 'long'):
        monkeypatch.delattr(np, 'long', raising=False)
    if hasattr(np, 'long'):  # numpy 1.x raises through __getattr__ anyway
        pytest.skip('cannot remove np.long on this numpy')
    assert compat.patch_numpy_long() is True
    assert np.long is np.int64
    assert compat.patch_numpy_long() is False
    assert np.zeros(2, dtype=np.long).dtype == np.int64


# ----------------------------------------------------------------------------
# checkpoints
# ----------------------------------------------------------------------------

PAYLOAD_MARK = 'cmkd-payload-ran'


class _Exploit:
    """Pickles to a call of os.system (or any callable given)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _save(obj, path):
    torch.save(obj, str(path))
    return str(path)


@pytest.mark.parametrize('payload', ['system', 'eval', 'getattr_ndarray',
                                     'getattr_history_buffer', 'instantiate'])
def test_malicious_checkpoint_is_refused(tmp_path, payload):
    marker = tmp_path / PAYLOAD_MARK
    cmd = f'touch {marker}'
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import \
        OneCycleParamScheduler
    objs = {
        'system': _Exploit(os.system, cmd),
        'eval': _Exploit(eval, f'__import__("os").system("{cmd}")'),
        # getattr is allowed for HistoryBuffer statistics only
        'getattr_ndarray': _Exploit(getattr, np.ndarray, 'tofile'),
        'getattr_history_buffer': _Exploit(getattr, HistoryBuffer, '__init__'),
        # a class allowed only as a getattr target cannot be instantiated
        'instantiate': _Exploit(OneCycleParamScheduler, None, 'lr'),
    }
    path = _save({'state_dict': {'w': torch.ones(2)}, 'meta': objs[payload]},
                 tmp_path / 'evil.pth')
    with pytest.raises(compat.UnsafeCheckpointError) as err:
        compat.safe_load_checkpoint(path)
    assert 'evil.pth' in str(err.value)
    assert not marker.exists()
    # and the same through mmengine's loader used by load_from / resume
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(compat.UnsafeCheckpointError):
        _load_checkpoint(path, map_location='cpu')
    assert not marker.exists()


def test_error_names_the_offending_global(tmp_path):
    path = _save({'x': _Exploit(os.system, 'true')}, tmp_path / 'a.pth')
    with pytest.raises(compat.UnsafeCheckpointError, match=r"(posix|os)\.system"):
        compat.safe_load_checkpoint(path)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.safe_load_checkpoint(tmp_path / 'nope.pth')


def test_plain_state_dict_and_numpy_content_load(tmp_path):
    obj = {
        'state_dict': {'w': torch.arange(6.).reshape(2, 3), 'b': torch.ones(1, dtype=torch.int64)},
        'meta': {'arr': np.arange(4, dtype=np.float32), 'scalar': np.float64(2.5),
                 'i': np.int64(3), 'dtype': np.dtype('float16'), 'classes': ('Car', 'Ped')},
    }
    out = compat.safe_load_checkpoint(_save(obj, tmp_path / 'ok.pth'))
    assert torch.equal(out['state_dict']['w'], obj['state_dict']['w'])
    np.testing.assert_array_equal(out['meta']['arr'], obj['meta']['arr'])
    assert out['meta']['scalar'] == 2.5 and out['meta']['dtype'] == np.float16
    assert out['meta']['classes'] == ('Car', 'Ped')


RUNNER_SCRIPT = textwrap.dedent('''
    import sys
    import torch
    import torch.nn as nn
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from torch.utils.data import Dataset
    import cmkd_mmdet3d  # noqa: F401  (installs the safe loader)

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 1)

        def forward(self, x, mode='tensor'):
            out = self.lin(torch.stack(list(x)) if not torch.is_tensor(x) else x)
            if mode == 'loss':
                return dict(loss=((out - 1) ** 2).mean())
            return out

    class Data(Dataset):
        metainfo = dict(classes=('a', 'b'))
        def __len__(self):
            return 8
        def __getitem__(self, i):
            g = torch.Generator().manual_seed(i)
            return dict(x=torch.randn(2, generator=g))

    def runner(work_dir, epochs, resume):
        return Runner(
            model=Toy(), work_dir=work_dir, resume=resume,
            train_dataloader=dict(dataset=Data(), batch_size=2,
                                  sampler=dict(type='DefaultSampler', shuffle=True),
                                  collate_fn=dict(type='default_collate')),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
            param_scheduler=dict(type='OneCycleLR', eta_max=0.01, total_steps=16,
                                 by_epoch=False),
            train_cfg=dict(by_epoch=True, max_epochs=epochs),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
            randomness=dict(seed=0))

    work_dir = sys.argv[1]
    r = runner(work_dir, 2, False)
    r.train()
    r2 = runner(work_dir, 4, True)   # resumes from epoch_2.pth
    r2.train()
    assert r2.iter == 16, r2.iter
    lb = r2.message_hub.get_scalar('train/loss')
    print('RESUMED', r2.epoch, len(lb.data[0]))
''')


def test_genuine_mmengine_checkpoint_loads_and_resumes(tmp_path):
    """A Runner checkpoint (message hub, meta, AdamW and OneCycle state)
    resumes through the safe loader, in a fresh interpreter without any
    environment override."""
    script = tmp_path / 'run.py'
    script.write_text(RUNNER_SCRIPT)
    env = {k: v for k, v in os.environ.items()
           if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    env['PYTHONPATH'] = REPO_ROOT  # test this checkout, not an installed copy
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / 'w')],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'RESUMED 4' in proc.stdout
    ckpt = compat.safe_load_checkpoint(tmp_path / 'w' / 'epoch_4.pth')
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer',
                         'param_schedulers'}
    assert ckpt['meta']['epoch'] == 4
    # the plain torch loader of this torch refuses the same file
    if tuple(int(v) for v in torch.__version__.split('.')[:2]) >= (2, 6):
        with pytest.raises(pickle.UnpicklingError):
            torch.load(tmp_path / 'w' / 'epoch_4.pth')


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A write that dies half way leaves the previous file intact."""
    import cmkd_mmdet3d  # noqa: F401
    from mmengine.fileio.backends.local_backend import LocalBackend
    target = tmp_path / 'epoch_1.pth'
    LocalBackend().put(b'old', target)
    assert target.read_bytes() == b'old'

    class Boom(Exception):
        pass

    real_fsync = os.fsync

    def dying_fsync(fd):
        raise Boom()

    monkeypatch.setattr(os, 'fsync', dying_fsync)
    with pytest.raises(Boom):
        LocalBackend().put(b'new but never finished', target)
    monkeypatch.setattr(os, 'fsync', real_fsync)
    assert target.read_bytes() == b'old'
    LocalBackend().put(b'new', target)
    assert target.read_bytes() == b'new'


def test_cmkd_config_scope_resolves_installed_configs():
    import cmkd_mmdet3d  # noqa: F401
    from mmengine.hub import get_config
    cfg = get_config('cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
                     'pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')
    assert cfg.model.type == 'VoxelNet'


def _fill_allocator_with_garbage():
    """Free blocks holding non-zero values, so that an uninitialised
    ``torch.empty`` in spconv would read garbage rather than zeros."""
    for n in (64, 1000, 20000):
        for dtype in (torch.float64, torch.float32, torch.int32):
            torch.full((n, ), 123, dtype=dtype)


@pytest.mark.parametrize('subm', [False, True])
def test_spconv_on_cpu_matches_dense_conv3d(subm):
    """Sparse conv (no bias) on a sparse tensor equals torch's dense conv3d
    on the zero-filled grid: outputs and both gradients, on CPU, for 24
    scenes in a row with 2 threads and an allocator full of garbage (the
    conditions in which spconv's own scatter-add was wrong)."""
    spconv = pytest.importorskip('spconv.pytorch')
    compat.patch_spconv_cpu_backward()
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for seed in range(24):
            g = torch.Generator().manual_seed(seed)
            coords = torch.unique(torch.randint(0, 6, (30, 3), generator=g),
                                  dim=0)
            idx = torch.cat([torch.zeros(len(coords), 1, dtype=torch.long),
                             coords], 1).int()
            feats = torch.randn(len(idx), 3, generator=g,
                                dtype=torch.float64)
            if subm:
                conv = spconv.SubMConv3d(3, 4, 3, padding=1, bias=False)
            else:
                conv = spconv.SparseConv3d(3, 4, 3, stride=2, padding=1,
                                           bias=False)
            conv = conv.double()
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g,
                                              dtype=torch.float64))
            _fill_allocator_with_garbage()
            f_sp = feats.clone().requires_grad_()
            out = conv(spconv.SparseConvTensor(f_sp, idx, [6, 6, 6],
                                               1)).dense()
            upstream = torch.randn(out.shape, generator=g,
                                   dtype=torch.float64)
            _fill_allocator_with_garbage()
            (out * upstream).sum().backward()

            # the same thing dense: spconv weights are (out, kD, kH, kW, in)
            dense = torch.zeros(1, 3, 6, 6, 6, dtype=torch.float64)
            dense[0, :, coords[:, 0], coords[:, 1], coords[:, 2]] = feats.T
            dense.requires_grad_()
            w = conv.weight.detach().permute(0, 4, 1, 2, 3).clone()
            w.requires_grad_()
            ref = torch.nn.functional.conv3d(dense, w, stride=1 if subm else 2,
                                             padding=1)
            if subm:   # a submanifold conv only writes the active sites
                mask = torch.zeros(1, 1, 6, 6, 6, dtype=torch.float64)
                mask[0, 0, coords[:, 0], coords[:, 1], coords[:, 2]] = 1
                ref = ref * mask
            (ref * upstream).sum().backward()
            torch.testing.assert_close(out, ref, msg=f'output, seed {seed}')
            torch.testing.assert_close(
                f_sp.grad, dense.grad[0, :, coords[:, 0], coords[:, 1],
                                      coords[:, 2]].T,
                msg=f'input gradient, seed {seed}')
            torch.testing.assert_close(conv.weight.grad,
                                       w.grad.permute(0, 2, 3, 4, 1),
                                       msg=f'weight gradient, seed {seed}')
    finally:
        torch.set_num_threads(threads)
    if not torch.cuda.is_available():
        assert compat.patch_spconv_cpu_backward() is False   # idempotent


def test_spconv_scatter_add_cpu_is_exact_with_threads():
    """spconv's CPU scatter-add (forward output, input gradient) is replaced
    by an exact one: 300 random calls with 2 threads, checked against a
    Python loop; unused buffer rows are ignored, duplicates add up."""
    pytest.importorskip('spconv.pytorch')
    from spconv.core_cc.csrc.sparse.all import SpconvOps
    from spconv.pytorch.cppcore import torch_tensor_to_tv
    assert compat.patch_spconv_cpu_scatter_add() is False   # applied already
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    try:
        for it in range(300):
            rows, ch, n = 50, 1 + it % 17, 30
            if it % 3:
                inds = torch.randperm(rows, generator=g)[:n]
            else:
                inds = torch.randint(0, rows, (n, ), generator=g)
            inds = inds.int()
            out = torch.randn(rows, ch, generator=g, dtype=torch.float64)
            buf = torch.randn(n + 7, ch, generator=g, dtype=torch.float64)
            expected = out.clone()
            for i, r in enumerate(inds.tolist()):
                expected[r] += buf[i]
            SpconvOps.scatter_add_cpu(torch_tensor_to_tv(out),
                                      torch_tensor_to_tv(buf),
                                      torch_tensor_to_tv(inds))
            torch.testing.assert_close(out, expected, rtol=0, atol=1e-12,
                                       msg=f'call {it}')
    finally:
        torch.set_num_threads(threads)

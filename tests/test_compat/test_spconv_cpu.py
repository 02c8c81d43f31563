"""compat.spconv_cpu: spconv's CPU backward and scatter-add."""
import pytest
import torch

from cmkd_mmdet3d import compat


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

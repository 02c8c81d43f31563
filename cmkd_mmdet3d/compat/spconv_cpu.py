"""Sparse-convolution backward on CPU (:func:`patch_spconv_cpu_backward`):
spconv 2.3's ``indice_conv_backward`` has a CPU branch (gather, matmul,
scatter-add) but asks torch for the current CUDA stream before reaching
it, so every backward through a sparse conv fails on a machine without
CUDA ("Torch not compiled with CUDA enabled"). Without CUDA we hand it
stream 0, which the CPU branch never uses. This lets the SECOND and
CenterPoint teachers train on CPU (tested against a dense ``conv3d``).
"""

import torch


def patch_spconv_cpu_backward() -> bool:
    """Let spconv's sparse-conv backward reach its CPU branch without CUDA.

    Returns:
        bool: True if spconv was patched now (False with CUDA, without
        spconv, or when already patched).
    """
    if torch.cuda.is_available():
        return False
    try:
        from spconv.pytorch import ops
    except ImportError:
        return False
    if getattr(ops.get_current_stream, '_cmkd_cpu', False):
        return False
    cuda_stream = ops.get_current_stream

    def get_current_stream() -> int:
        # only reached on CPU tensors here: the CPU branch ignores it
        if torch.cuda.is_available():
            return cuda_stream()
        return 0

    get_current_stream._cmkd_cpu = True
    ops.get_current_stream = get_current_stream
    return True


def spconv_scatter_add_cpu(out, inp, inds) -> None:
    """``out[inds[i]] += inp[i]`` for ``i < len(inds)``, in place.

    The replacement of spconv's ``SpconvOps.scatter_add_cpu`` (see
    :func:`patch_spconv_cpu_scatter_add`), with its signature.

    Args:
        out (cumm.tensorview.Tensor): (M, C) float CPU tensor, updated in
            place.
        inp (cumm.tensorview.Tensor): (N', C) rows to add, N' >= N; only the
            first N are read (spconv passes its whole work buffer).
        inds (cumm.tensorview.Tensor): (N,) int32 destination rows.
    """
    idx = torch.from_numpy(inds.numpy_view()).long()
    dst = torch.from_numpy(out.numpy_view())
    src = torch.from_numpy(inp.numpy_view())
    dst.index_add_(0, idx, src[:idx.shape[0]])


def patch_spconv_cpu_scatter_add() -> bool:
    """Replace spconv's racy CPU scatter-add (:func:`spconv_scatter_add_cpu`).

    spconv 2.3's ``GatherCPU::scatter_add`` (``spconv/csrc/sparse/gather.py``,
    used by ``indice_conv`` forward and by the input gradient of
    ``indice_conv_backward`` on CPU tensors) declares its row pointers ``buf``
    and ``out_ptr`` outside the ``tv::kernel_1d`` lambda and captures them by
    reference, so the OpenMP threads share them: one thread re-points them
    between another's assignment and its adds, and rows receive another
    row's values. With one thread it is exact, with two it was wrong in 372
    of 2000 random calls on this project's machines, and a sparse conv
    checked against a dense ``conv3d`` was wrong in most runs. The gather
    (locals inside the lambda) and the weight gradient (``torch.mm``) are
    not affected. torch's ``index_add_`` does the same thing
    deterministically. Applied whether or not CUDA is present: CPU tensors
    take this path on any machine.

    Returns:
        bool: True if spconv was patched now (False without spconv or when
        already patched).
    """
    try:
        from spconv.core_cc.csrc.sparse.all import SpconvOps
    except ImportError:
        return False
    if getattr(SpconvOps.scatter_add_cpu, '_cmkd_exact', False):
        return False
    fn = staticmethod(spconv_scatter_add_cpu)
    spconv_scatter_add_cpu._cmkd_exact = True
    SpconvOps.scatter_add_cpu = fn
    return True

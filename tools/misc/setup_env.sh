#!/usr/bin/env bash
# Build (or refresh) the Python environment of cmkd_mmdet3d.
#
#   bash tools/misc/setup_env.sh [VENV]        (VENV defaults to $CMKD_VENV, else .venv)
#
# Idempotent: every step first checks whether it is already satisfied, so a
# second run with everything present only verifies imports (well under a minute).
#
# What it installs, in this order (the order matters, see
# ../shared/docs/mmdet3d_plugin_notes.md section 6):
#   1. torch 2.13.0 - unless a torch is already importable (a CUDA build the user
#      installed is kept: the venv then sees it through --system-site-packages,
#      and a constraints file pins it so no later step pulls a second torch);
#   2. setuptools>=64,<82 (openmim and mmengine still import pkg_resources), ninja;
#   3. mmcv 2.1.0 built from source with its ops (--no-build-isolation,
#      MMCV_WITH_OPS=1, CUDA ops when nvcc and a CUDA torch are present).
#      A prebuilt wheel in PIP_FIND_LINKS is reused (CPU builds only);
#   4. mmengine / mmdet / mmdet3d / nuscenes-devkit / lyft-dataset-sdk / openmim
#      with --no-deps plus requirements/runtime.txt (avoids numpy<2, open3d,
#      opencv-python with GUI libraries and the setuptools~=60.2 downgrade);
#   5. spconv: the CPU wheel, or spconv-cuXXX matching torch's CUDA;
#   6. test tools, then the plugin itself, non-editable (mim needs a real
#      site-packages/cmkd_mmdet3d with its .mim folder).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${1:-${CMKD_VENV:-$here/.venv}}
base_python=${PYTHON:-python3}
t0=$(date +%s)
say() { printf '[setup_env %3ss] %s\n' $(( $(date +%s) - t0 )) "$*"; }

# --------------------------------------------------------------------------- venv
if [ ! -x "$venv/bin/python" ]; then
  if "$base_python" -c 'import torch' >/dev/null 2>&1; then
    say "the base interpreter already has torch $("$base_python" -c 'import torch; print(torch.__version__)'); reusing it (--system-site-packages)"
    "$base_python" -m venv --system-site-packages "$venv"
  else
    say "creating $venv"
    "$base_python" -m venv "$venv"
  fi
fi
py="$venv/bin/python"
pip() { "$py" -m pip --disable-pip-version-check "$@"; }
have() { "$py" - "$@" >/dev/null 2>&1; }   # have <<'PY' ... PY

# ------------------------------------------------------------------------- torch
if ! "$py" -c 'import torch' >/dev/null 2>&1; then
  say "installing torch 2.13.0"
  pip install -q torch==2.13.0
fi
torch_version=$("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null)
torch_cuda=$("$py" -c 'import torch; print(torch.version.cuda or "")' 2>/dev/null)
# Never let a later step replace the torch we have.
constraints="$venv/cmkd-constraints.txt"
echo "torch==${torch_version}" > "$constraints"
export PIP_CONSTRAINT="$constraints"
say "torch ${torch_version} (CUDA: ${torch_cuda:-none})"

# ------------------------------------------------------------- build prerequisites
if ! "$py" -c 'import setuptools, sys; from packaging.version import Version as V; v = V(setuptools.__version__); sys.exit(not (V("64") <= v < V("82")))' >/dev/null 2>&1 \
   || ! "$py" -c 'import ninja, wheel, psutil' >/dev/null 2>&1; then
  say "installing setuptools>=64,<82, wheel, ninja, psutil, packaging"
  pip install -q "setuptools>=64,<82" wheel ninja psutil packaging
fi

# ------------------------------------------------------ the rest of the stack
stack_ok() {
  "$py" - <<'PY'
import importlib.metadata as md
want = {}
for line in open('requirements/openmmlab.txt'):
    line = line.split('#')[0].strip()
    if '==' in line:
        name, ver = line.split('==')
        want[name] = ver
for name, ver in want.items():
    assert md.version(name) == ver, (name, md.version(name), ver)
import mmdet3d.models, mmdet3d.datasets, mmdet3d.evaluation  # noqa: F401,E401
import mim  # noqa: F401 (needs pkg_resources)
PY
}
cd "$here"
if ! stack_ok >/dev/null 2>&1; then
  say "installing mmengine / mmdet / mmdet3d / openmim and their runtime dependencies"
  pip install -q -r requirements/runtime.txt
  pip install -q --no-deps -r requirements/openmmlab.txt
fi

# -------------------------------------------------------------------------- mmcv
use_cuda=0
if [ -n "$torch_cuda" ] && command -v nvcc >/dev/null 2>&1; then use_cuda=1; fi
mmcv_ok() {
  "$py" - "$use_cuda" <<'PY'
import sys
import mmcv
from mmcv.ops import box_iou_rotated  # noqa: F401 (needs the compiled ops)
import mmcv._ext as ext
assert mmcv.__version__ == '2.1.0', mmcv.__version__
if sys.argv[1] == '1':
    import torch
    from mmcv.ops import nms_rotated
    b = torch.tensor([[0., 0., 2., 2., 0.]], device='cuda')
    nms_rotated(b, torch.ones(1, device='cuda'), 0.5)
PY
}
if ! mmcv_ok >/dev/null 2>&1; then
  if [ "$use_cuda" = 1 ]; then
    arch=${TORCH_CUDA_ARCH_LIST:-$("$py" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())' 2>/dev/null || echo "8.0;9.0")}
    say "building mmcv 2.1.0 with CUDA ops for arch ${arch} (MAX_JOBS=${MAX_JOBS:-$(nproc)})"
    FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch" MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      pip install --no-build-isolation --no-deps --no-binary mmcv mmcv==2.1.0
  else
    # A prebuilt CPU wheel is taken from PIP_FIND_LINKS (pip reads it) or
    # from ../shared/wheels beside the checkout when that folder exists.
    links=()
    shared_wheels="$here/../shared/wheels"
    if [ -d "$shared_wheels" ]; then links=(--find-links "$(cd "$shared_wheels" && pwd)"); fi
    say "installing mmcv 2.1.0 with CPU ops (a prebuilt wheel if one is found, else a ~30 min build)"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      pip install --no-build-isolation --no-deps "${links[@]}" mmcv==2.1.0
  fi
  mmcv_ok
fi

stack_ok || { echo "the OpenMMLab stack does not import; see the messages above" >&2; exit 1; }

# ------------------------------------------------------------------------ spconv
if ! "$py" -c 'import spconv.pytorch' >/dev/null 2>&1; then
  if [ -n "$torch_cuda" ]; then
    major=${torch_cuda%%.*}; minor=${torch_cuda#*.}; minor=${minor%%.*}
    case "$major" in
      11) pkg=spconv-cu118 ;;
      12) if [ "$minor" -ge 6 ]; then pkg=spconv-cu126; elif [ "$minor" -ge 4 ]; then pkg=spconv-cu124; else pkg=spconv-cu121; fi ;;
      *) pkg=spconv-cu126 ;;  # newest spconv build; runs on newer drivers
    esac
  else
    pkg=spconv
  fi
  say "installing $pkg"
  pip install -q "$pkg" || say "WARNING: $pkg could not be installed; SECOND / CenterPoint teachers will need it"
fi

# -------------------------------------------------------------------- test tools
if ! "$py" -c 'import pytest, pytest_timeout' >/dev/null 2>&1; then
  say "installing test tools"
  pip install -q -r requirements/tests.txt
fi

# -------------------------------------------------------------------- deployment
if ! "$py" -c 'import onnx, onnxruntime, onnxscript' >/dev/null 2>&1; then
  say "installing the ONNX export tools"
  pip install -q -r requirements/deploy.txt
fi

# -------------------------------------------------------------------- the plugin
say "installing cmkd_mmdet3d (non-editable, so that mim finds its configs and tools)"
pip install -q --no-deps --no-build-isolation --force-reinstall "$here"
"$py" -c 'import cmkd_mmdet3d, sys; print("cmkd_mmdet3d", cmkd_mmdet3d.__version__, "in", sys.prefix)'
say "environment ready: $venv"

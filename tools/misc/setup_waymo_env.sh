#!/usr/bin/env bash
# Build the Waymo evaluation environment: the official Waymo metric on CPU.
#
#   bash tools/misc/setup_waymo_env.sh [VENV]   (default $CMKD_WAYMO_VENV, else .venv-waymo)
#
# The Waymo Open Dataset wheel (waymo-open-dataset-tf-2-12-0 1.6.7) ships the
# detection metric as a TensorFlow op (metrics/ops/metrics_ops.so) and pins
# tensorflow 2.13 and numpy 1.23.5. The OpenMMLab stack in .venv cannot share
# those pins, so the metric runs in this second environment, in a subprocess
# (cmkd_mmdet3d/evaluation/waymo_worker.py). The wheel's other dependencies
# (jax, dask, visu3d, ...) are not needed for the metric op or the protos and
# are skipped (--no-deps). Idempotent: a second run only checks the import.
# Needs CPython 3.8-3.11 (tensorflow 2.13's wheels); set PYTHON to choose one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${1:-${CMKD_WAYMO_VENV:-$here/.venv-waymo}}
base_python=${PYTHON:-python3}
waymo_wheel='waymo-open-dataset-tf-2-12-0==1.6.7'
t0=$(date +%s)
say() { printf '[setup_waymo_env %3ss] %s\n' $(( $(date +%s) - t0 )) "$*"; }

check='from waymo_open_dataset.metrics.ops import py_metrics_ops; from waymo_open_dataset.protos import metrics_pb2'
if [ -x "$venv/bin/python" ] && TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
  say "$venv already has the Waymo metric op"
  exit 0
fi

if ! "$base_python" -c 'import sys; sys.exit(not ((3, 8) <= sys.version_info[:2] <= (3, 11)))'; then
  echo "setup_waymo_env: tensorflow 2.13 needs CPython 3.8-3.11, but $base_python is $("$base_python" -V 2>&1); set PYTHON=python3.11" >&2
  exit 1
fi
[ -x "$venv/bin/python" ] || { say "creating $venv"; "$base_python" -m venv "$venv"; }
pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@"; }
say "installing $(grep -v '^#' "$here/requirements/waymo.txt" | xargs)"
pip install -q -r "$here/requirements/waymo.txt"
say "installing $waymo_wheel (--no-deps: only its metric op and protos are used)"
pip install -q --no-deps "$waymo_wheel"
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "$check"
say "done: $venv ($(du -sh "$venv" | cut -f1))"

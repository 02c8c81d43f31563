#!/usr/bin/env bash
# Distributed training on one or more nodes with torchrun:
#   tools/dist_train.sh CONFIG NUM_PROCS [train.py options ...]
# Env: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), PORT (29500).
# Without CUDA the processes use the gloo backend on CPU.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
PYTHONPATH="$here/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$here/train.py" "$CONFIG" --launcher pytorch "$@"

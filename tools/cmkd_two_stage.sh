#!/usr/bin/env bash
# The CMKD recipe in one command: (optional) teacher check -> stage 1 ->
# stage 2 -> evaluation of the distilled student -> student-only checkpoint.
#
#   tools/cmkd_two_stage.sh TEACHER_CKPT STAGE1_CFG STAGE2_CFG WORK_DIR [mim train options]
#
# Configs are names or paths that `mim train cmkd_mmdet3d` accepts. Extra
# arguments go to both `mim train` calls (e.g. --gpus 2 --launcher pytorch,
# or --cfg-options ...). Environment: TEACHER_CFG (evaluate the teacher
# first with `mim test` when set), PYTHON (python used for the tools),
# STAGE2_CFG_OPTIONS (space-separated key=value items added to stage 2's
# --cfg-options only, e.g. its validation settings: stage 1 has no head and
# no validation), TEST_CFG_OPTIONS (the same for the evaluation of the
# distilled student: a model change made by --cfg-options at training, e.g.
# the feature stride, must hold when its checkpoint is loaded).
# Each stage resumes where it stopped if its work dir has a checkpoint.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,16p' "$0"; exit 2
fi
TEACHER_CKPT=$1; STAGE1=$2; STAGE2=$3; WORK=$4; shift 4
PYTHON=${PYTHON:-python}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$TEACHER_CKPT" ] || { echo "teacher checkpoint $TEACHER_CKPT not found" >&2; exit 1; }

read -r -a stage2_opts <<< "${STAGE2_CFG_OPTIONS:-}"
read -r -a test_opts <<< "${TEST_CFG_OPTIONS:-}"

resume_flag() {  # --resume when the stage already wrote a checkpoint
  if [ -f "$1/last_checkpoint" ]; then echo --resume; fi
}

if [ -n "${TEACHER_CFG:-}" ]; then
  echo "== teacher check: $TEACHER_CFG"
  mim test cmkd_mmdet3d "$TEACHER_CFG" --checkpoint "$TEACHER_CKPT" \
      --work-dir "$WORK/teacher_test"
fi

echo "== stage 1: $STAGE1"
mim train cmkd_mmdet3d "$STAGE1" --work-dir "$WORK/stage1" \
    $(resume_flag "$WORK/stage1") "$@" \
    --cfg-options model.teacher_ckpt="$TEACHER_CKPT"
stage1_ckpt=$(cat "$WORK/stage1/last_checkpoint")

echo "== stage 2: $STAGE2 (image branch from $stage1_ckpt)"
mim train cmkd_mmdet3d "$STAGE2" --work-dir "$WORK/stage2" \
    $(resume_flag "$WORK/stage2") "$@" \
    --cfg-options model.teacher_ckpt="$TEACHER_CKPT" \
    model.stage1_ckpt="$stage1_ckpt" ${stage2_opts[@]+"${stage2_opts[@]}"}
stage2_ckpt=$(cat "$WORK/stage2/last_checkpoint")

echo "== evaluate the distilled student"
mim test cmkd_mmdet3d "$STAGE2" --checkpoint "$stage2_ckpt" \
    --work-dir "$WORK/stage2_test" \
    ${test_opts[@]+--cfg-options "${test_opts[@]}"}
"$PYTHON" "$here/model_converters/extract_student.py" "$stage2_ckpt" \
    "$WORK/student.pth"
echo "distilled student (student-only checkpoint): $WORK/student.pth"

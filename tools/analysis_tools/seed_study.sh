#!/usr/bin/env bash
# The student alone against CMKD (stage 1 + stage 2) at equal steps, over
# several seeds, evaluated on one test set; prints mean +- std per metric
# and in how many seeds CMKD is ahead.
#
#   tools/analysis_tools/seed_study.sh TEACHER_CKPT WORK_ROOT SEED [SEED ...]
#
# Environment: STUDENT, STAGE1, STAGE2 (configs, default: the synthetic
# demo's), TEST_ROOT (data root to evaluate on, default
# data/synthetic_kitti/, e.g. a world generated with more val frames),
# PYTHON. Finished runs are skipped, so a study can be extended by seeds
# or resumed after a kill (each training resumes from its checkpoint).
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,12p' "$0"; exit 2
fi
TEACHER_CKPT=$1; ROOT=$2; shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
STUDENT=${STUDENT:-cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_synkitti-3d-3class.py}
STAGE1=${STAGE1:-cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py}
STAGE2=${STAGE2:-cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py}
TEST_ROOT=${TEST_ROOT:-data/synthetic_kitti/}
TEST_ROOT=${TEST_ROOT%/}/
[ -f "$TEACHER_CKPT" ] || { echo "teacher checkpoint $TEACHER_CKPT not found" >&2; exit 1; }
[ -f "${TEST_ROOT}kitti_infos_val.pkl" ] || {
  echo "no ${TEST_ROOT}kitti_infos_val.pkl (TEST_ROOT)" >&2; exit 1; }
test_name=$(basename "$TEST_ROOT")
test_opts=(--cfg-options "test_dataloader.dataset.data_root=$TEST_ROOT"
           "test_evaluator.ann_file=${TEST_ROOT}kitti_infos_val.pkl")

alone=(); cmkd=()
for seed in "$@"; do
  s_dir=$ROOT/student_s$seed; c_dir=$ROOT/cmkd_s$seed
  echo "== seed $seed: the student alone"
  if [ ! -f "$s_dir/epoch_8.pth" ]; then
    mim train cmkd_mmdet3d "$STUDENT" --work-dir "$s_dir" \
        $([ -f "$s_dir/last_checkpoint" ] && echo --resume) \
        --cfg-options randomness.seed="$seed" train_cfg.val_interval=1000
  fi
  echo "== seed $seed: CMKD stage 1 + stage 2"
  if [ ! -f "$c_dir/student.pth" ]; then
    PYTHON=$PYTHON bash "$here/cmkd_two_stage.sh" "$TEACHER_CKPT" "$STAGE1" \
        "$STAGE2" "$c_dir" --cfg-options randomness.seed="$seed"
  fi
  for pair in "$STUDENT:$s_dir/epoch_8.pth:${s_dir}_test_$test_name" \
      "$STAGE2:$(cat "$c_dir/stage2/last_checkpoint"):${c_dir}_test_$test_name"; do
    IFS=: read -r cfg ckpt out <<< "$pair"
    if [ ! -d "$out" ]; then
      mim test cmkd_mmdet3d "$cfg" --checkpoint "$ckpt" --work-dir "$out" \
          "${test_opts[@]}"
    fi
  done
  alone+=("${s_dir}_test_$test_name"); cmkd+=("${c_dir}_test_$test_name")
done

join() { local IFS=,; echo "$*"; }
"$PYTHON" "$here/misc/summarize_results.py" \
    --title "seeds $* evaluated on $TEST_ROOT" \
    --compare "student alone=$(join "${alone[@]}")" \
    "student + CMKD=$(join "${cmkd[@]}")"

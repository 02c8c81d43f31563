#!/usr/bin/env bash
# CMKD on the synthetic Waymo world, CPU only (`make demo-waymo`):
#   1. generate the Waymo-format world (front camera at 320 x 480, 64-beam
#      top LiDAR, Car / Pedestrian / Cyclist, mmdet3d's Waymo infos and the
#      val ground truth as a Waymo .bin) in data/synthetic_waymo (resumable);
#   2. train the CPU PointPillars teacher (`mim train cmkd_mmdet3d`) and
#      evaluate it (`mim test`: WaymoAPMetric, the official Waymo op);
#   3. train the front-camera student alone and evaluate it;
#   4. train the same student with CMKD, stage 1 (BEV features) and stage 2
#      (BEV + responses + ground truth, from the teacher's BEV detector and
#      stage 1), the same steps as the student alone, and evaluate it;
#   5. print teacher, student alone and distilled student side by side
#      (LEVEL_1 / LEVEL_2 AP and APH, Vehicle at IoU 0.7 and 0.5, by range).
# The Waymo metric runs in the environment of `make waymo-env` (which
# `make demo-waymo` tries to build first). Without that environment (or with
# DEMO_WAYMO_METRIC=kitti) the same runs are evaluated with the KITTI-style
# fallback of WaymoAPMetric (metric='kitti': KittiMetric's AP40 against the
# front camera's boxes of the val infos), and the demo says so. Finished
# stages are skipped when run again; interrupted trainings resume. Knobs
# (environment): DEMO_WAYMO_METRIC (waymo | kitti; default waymo when the
# environment is found), DEMO_WAYMO_TRAIN
# (160 frames), DEMO_WAYMO_VAL (100), DEMO_WAYMO_DATA (data/synthetic_waymo),
# DEMO_WAYMO_WORK (work_dirs/demo_waymo), DEMO_WORKERS (2), DEMO_SEED (0: the
# seed of every training).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
NTRAIN=${DEMO_WAYMO_TRAIN:-160}
NVAL=${DEMO_WAYMO_VAL:-100}
DATA=${DEMO_WAYMO_DATA:-data/synthetic_waymo}
WORK=${DEMO_WAYMO_WORK:-work_dirs/demo_waymo}
WORKERS=${DEMO_WORKERS:-2}
SEED=${DEMO_SEED:-0}
TEACHER=pointpillars_pillar04_secfpn_1xb4-cyclic-12e_synwaymo-3d-3class.py
STUDENT=cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_synwaymo-3d-3class.py
STAGE1=cmkd_bev_pointpillars-pillar04_r18-aspp-lid40_1xb2-onecycle-4e_synwaymo-3d-3class.py
STAGE2=cmkd_bev-resp_pointpillars-pillar04_r18-aspp-lid40_1xb2-onecycle-4e_synwaymo-3d-3class.py
if [ -z "${DEMO_WAYMO_METRIC:-}" ]; then
  if python -c "from cmkd_mmdet3d.evaluation.waymo_metric import find_waymo_python as f; f()" >/dev/null 2>&1; then
    DEMO_WAYMO_METRIC=waymo
  else
    DEMO_WAYMO_METRIC=kitti
  fi
fi
case "$DEMO_WAYMO_METRIC" in
  waymo) metric_opts=(); gt_bin=yes
         title="Waymo AP / APH (official op), synthetic val frames" ;;
  kitti) metric_opts=(test_evaluator.metric=kitti
                      test_evaluator.ann_file=data/synthetic_waymo/waymo_infos_val.pkl)
         gt_bin=auto
         title="KITTI-style AP40 of the front camera (no Waymo environment: not the Waymo metric), synthetic val frames"
         echo "!! no Waymo environment (make waymo-env) or DEMO_WAYMO_METRIC=kitti:"
         echo "!! the runs are evaluated with the KITTI-style fallback, not the Waymo metric" ;;
  *) echo "DEMO_WAYMO_METRIC must be waymo or kitti, not $DEMO_WAYMO_METRIC" >&2; exit 2 ;;
esac
# the fallback's results live beside the Waymo ones, not in their place
suffix=$([ "$DEMO_WAYMO_METRIC" = kitti ] && echo _kitti || true)
start=$(date +%s)
stamp() { echo "   ($(( $(date +%s) - start )) s so far)"; }

# train CONFIG WORK_DIR EPOCHS [cfg-options...]: mim train, resumed when
# interrupted, skipped when its last checkpoint (epoch_EPOCHS.pth) exists
train() {
  local cfg=$1 dir=$2 epochs=$3
  shift 3
  if [ ! -f "$dir/epoch_$epochs.pth" ]; then
    mim train cmkd_mmdet3d "$cfg" --work-dir "$dir" \
        $([ -f "$dir/last_checkpoint" ] && echo --resume) \
        --cfg-options randomness.seed="$SEED" "$@"
  fi
}
# evaluate CONFIG CHECKPOINT WORK_DIR
evaluate() {
  [ -d "$3" ] || mim test cmkd_mmdet3d "$1" --checkpoint "$2" --work-dir "$3" \
      ${metric_opts[@]+--cfg-options "${metric_opts[@]}"}
}
# the validations inside the trainings are skipped (the tests below are the
# results); stage 1 has none
noval="train_cfg.val_interval=1000"

echo "== 1/5 synthetic Waymo world: $NTRAIN train + $NVAL val frames -> $DATA"
python tools/create_data.py synthetic-waymo --out "$DATA" \
    --num-train "$NTRAIN" --num-val "$NVAL" --seed 0 --img-height 320 \
    --img-width 480 --workers "$WORKERS" --gt-bin "$gt_bin"
# the configs read data/synthetic_waymo relative to the working directory
if [ "$(cd "$DATA" && pwd)" != "$root/data/synthetic_waymo" ]; then
  mkdir -p data && ln -sfn "$(cd "$DATA" && pwd)" data/synthetic_waymo
fi
stamp

echo "== 2/5 the PointPillars LiDAR teacher (12 epochs)"
train "$TEACHER" "$WORK/teacher" 12 "$noval"
teacher_ckpt="$WORK/teacher/epoch_12.pth"
evaluate "$TEACHER" "$teacher_ckpt" "$WORK/teacher_test$suffix"
stamp

echo "== 3/5 the front-camera student alone (8 epochs)"
train "$STUDENT" "$WORK/student_alone" 8 "$noval"
evaluate "$STUDENT" "$WORK/student_alone/epoch_8.pth" \
    "$WORK/student_alone_test$suffix"
stamp

echo "== 4/5 the same student with CMKD: stage 1 (4 epochs) + stage 2 (4)"
train "$STAGE1" "$WORK/cmkd_stage1" 4 model.teacher_ckpt="$teacher_ckpt"
train "$STAGE2" "$WORK/cmkd_stage2" 4 "$noval" \
    model.teacher_ckpt="$teacher_ckpt" \
    model.stage1_ckpt="$WORK/cmkd_stage1/epoch_4.pth"
evaluate "$STAGE2" "$WORK/cmkd_stage2/epoch_4.pth" "$WORK/cmkd_test$suffix"
stamp

echo "== 5/5 results on the synthetic val frames (front camera FOV)"
python tools/misc/summarize_results.py --compare \
    "LiDAR teacher=$WORK/teacher_test$suffix" \
    "camera student alone=$WORK/student_alone_test$suffix" \
    "camera student + CMKD=$WORK/cmkd_test$suffix" \
    --title "$title"
echo "pictures: $WORK/*_test$suffix/*/vis/"
echo "total time: $(( $(date +%s) - start )) s"

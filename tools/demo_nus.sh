#!/usr/bin/env bash
# CMKD-MV on the synthetic nuScenes world, CPU only (`make demo-nus`):
#   1. generate the nuScenes-format world (six cameras, 32-beam LiDAR with
#      sweeps, moving objects of the ten classes, the devkit's tables and
#      mmdet3d's infos) in data/synthetic_nus (resumable);
#   2. train the CPU CenterPoint teacher (`mim train cmkd_mmdet3d`) and
#      evaluate it (`mim test`: NuScenesMetric, the devkit's evaluation);
#   3. train the surround-view camera student alone and evaluate it;
#   4. train the same student with CMKD (the frozen teacher's BEV features
#      and responses, plus the ground truth), same steps, and evaluate it;
#   5. print teacher, student alone and distilled student side by side
#      (mAP, NDS and the TP errors).
# Finished stages are skipped when run again; interrupted trainings resume.
# Knobs (environment): DEMO_NUS_SCENES (10: 8 train + 2 val scenes of 10 key
# frames), DEMO_NUS_DATA (data/synthetic_nus), DEMO_NUS_WORK
# (work_dirs/demo_nus), DEMO_WORKERS (2), DEMO_SEED (0: the seed of every
# training). The epochs are the configs' (teacher 4, students 8): their
# cyclic schedules are laid out over them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
SCENES=${DEMO_NUS_SCENES:-10}
DATA=${DEMO_NUS_DATA:-data/synthetic_nus}
WORK=${DEMO_NUS_WORK:-work_dirs/demo_nus}
EPOCHS=8
WORKERS=${DEMO_WORKERS:-2}
SEED=${DEMO_SEED:-0}
TEACHER=centerpoint_pillar08_second_secfpn_head-circlenms_1xb4-cyclic-4e_synnus-3d.py
STUDENT=cmkd-mono3d_r18-aspp-lid40-6cam_pillar08-secfpn_head-center_1xb2-cyclic-8e_synnus-3d.py
CMKD=cmkd_bev-resp_centerpoint-pillar08_r18-aspp-lid40-6cam_1xb2-cyclic-8e_synnus-3d.py
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
        --cfg-options train_cfg.val_interval=1000 randomness.seed="$SEED" "$@"
  fi
}
# evaluate CONFIG CHECKPOINT WORK_DIR
evaluate() {
  [ -d "$3" ] || mim test cmkd_mmdet3d "$1" --checkpoint "$2" --work-dir "$3"
}

echo "== 1/5 synthetic nuScenes world: $SCENES scenes of 10 key frames -> $DATA"
python tools/create_data.py synthetic-nuscenes --out "$DATA" \
    --num-scenes "$SCENES" --num-val-scenes 2 --samples-per-scene 10 \
    --seed 0 --img-height 225 --img-width 400 --workers "$WORKERS"
# the configs read data/synthetic_nus relative to the working directory
if [ "$(cd "$DATA" && pwd)" != "$root/data/synthetic_nus" ]; then
  mkdir -p data && ln -sfn "$(cd "$DATA" && pwd)" data/synthetic_nus
fi
stamp

echo "== 2/5 the CenterPoint LiDAR teacher (4 epochs of CBGS)"
train "$TEACHER" "$WORK/teacher" 4
teacher_ckpt="$WORK/teacher/epoch_4.pth"
evaluate "$TEACHER" "$teacher_ckpt" "$WORK/teacher_test"
stamp

echo "== 3/5 the surround-view camera student alone ($EPOCHS epochs)"
train "$STUDENT" "$WORK/student_alone" "$EPOCHS"
evaluate "$STUDENT" "$WORK/student_alone/epoch_$EPOCHS.pth" \
    "$WORK/student_alone_test"
stamp

echo "== 4/5 the same student with CMKD ($EPOCHS epochs, same steps)"
train "$CMKD" "$WORK/cmkd" "$EPOCHS" model.teacher_ckpt="$teacher_ckpt"
evaluate "$CMKD" "$WORK/cmkd/epoch_$EPOCHS.pth" "$WORK/cmkd_test"
stamp

echo "== 5/5 results on the synthetic val scenes"
python tools/misc/summarize_results.py --compare \
    "LiDAR teacher=$WORK/teacher_test" \
    "camera student alone=$WORK/student_alone_test" \
    "camera student + CMKD=$WORK/cmkd_test" \
    --title "nuScenes metric (devkit), synthetic val scenes"
echo "total time: $(( $(date +%s) - start )) s"

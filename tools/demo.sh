#!/usr/bin/env bash
# The main job of cmkd_mmdet3d on the embedded synthetic world, CPU only:
#   1. generate a KITTI-format synthetic world (image, LiDAR, calib, labels,
#      infos, GT database) in data/synthetic_kitti (resumable);
#   2. train the PointPillars LiDAR teacher with `mim train cmkd_mmdet3d`;
#   3. evaluate it with `mim test cmkd_mmdet3d` (KittiMetric, AP11 and AP40,
#      on CPU) and draw predictions vs ground truth;
#   4. print the numbers and where everything is.
# Knobs (environment): DEMO_TRAIN (160), DEMO_VAL (40), DEMO_EPOCHS (12),
# DEMO_DATA (data/synthetic_kitti), DEMO_WORK (work_dirs/demo), DEMO_WORKERS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
TRAIN=${DEMO_TRAIN:-160}
VAL=${DEMO_VAL:-40}
EPOCHS=${DEMO_EPOCHS:-12}
DATA=${DEMO_DATA:-data/synthetic_kitti}
WORK=${DEMO_WORK:-work_dirs/demo}
WORKERS=${DEMO_WORKERS:-2}
CFG=pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py
start=$(date +%s)

echo "== 1/3 synthetic KITTI world: $TRAIN train + $VAL val frames -> $DATA"
python tools/create_data.py synthetic-kitti --out "$DATA" --num-train "$TRAIN" \
    --num-val "$VAL" --seed 0 --workers "$WORKERS"
# the configs read data/synthetic_kitti relative to the working directory
if [ "$(cd "$DATA" && pwd)" != "$root/data/synthetic_kitti" ]; then
  mkdir -p data && ln -sfn "$(cd "$DATA" && pwd)" data/synthetic_kitti
fi

echo "== 2/3 train the PointPillars teacher ($EPOCHS epochs) with mim"
mim train cmkd_mmdet3d "$CFG" --work-dir "$WORK/teacher" \
    --cfg-options train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval=1000

echo "== 3/3 evaluate with KittiMetric and draw predictions"
ckpt="$WORK/teacher/epoch_${EPOCHS}.pth"
mim test cmkd_mmdet3d "$CFG" --checkpoint "$ckpt" --work-dir "$WORK/teacher_test"

python tools/misc/summarize_results.py "$WORK/teacher_test" --title "PointPillars teacher, synthetic val split"
echo "checkpoint: $ckpt"
echo "total time: $(( $(date +%s) - start )) s"

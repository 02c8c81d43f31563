#!/usr/bin/env bash
# The main job of cmkd_mmdet3d on the embedded synthetic world, CPU only:
#   1. generate a KITTI-format synthetic world (image, LiDAR, calib, labels,
#      infos, GT database) in data/synthetic_kitti (resumable);
#   2. train the PointPillars LiDAR teacher (`mim train cmkd_mmdet3d`) and
#      evaluate it (`mim test`, KittiMetric on CPU);
#   3. CMKD in one stage: the whole student, its BEV backbone / neck / head
#      initialised from the teacher's, trained with BEV + response
#      distillation, its depth loss and the ground truth (the reference's
#      stage 2 for all the steps, without stage 1: at 640 CPU steps it
#      learned far more than the reference's two stages, README "One stage
#      from the teacher's BEV detector"), then evaluate the distilled student
#      alone;
#   4. train the same student without the teacher for the same number of
#      steps (the no-distillation baseline) and evaluate it;
#   5. print teacher, baseline and distilled student side by side, with the
#      folders of the metrics and of the pictures of predictions, and (at
#      the default sizes) the same students' mean +- std over the seeds
#      measured by seed_benchmark.py and committed under docs/benchmarks/;
#   6. draw the BEV feature maps of the teacher and of both students (and
#      their predictions) on val frames 0-2 into $DEMO_WORK/bev_features
#      ($DEMO_WORK/students_<E>e/ holds the students of DEMO_STUDENT_EPOCHS=E
#      other than 8, and their pictures)
#      (tools/analysis_tools/show_bev_features.py).
# With DEMO_TWO_STAGE=1 (`make demo-long`, `make demo-semi`) one more
# student is trained at the same steps: the reference's recipe, stage 1 (the
# image branch learns the teacher's BEV map + depth) then stage 2 (the full
# student, teacher-initialised BEV detector, image branch from stage 1), half
# the epochs each, printed beside the others.
# With DEMO_ONESTAGE=1 (`make demo-long`) one more student is trained at the
# same steps: CMKD in one stage, stage 2's losses on the student from scratch
# (cmkd-1stage_..._synkitti config; not the reference's recipe), printed
# beside the others.
# With DEMO_SEMI=1 (`make demo-semi`) the world also gets DEMO_UNLABELED
# (160) unlabeled raw frames, and three more students are trained at the
# same steps, each batch holding 2 labeled + 2 unlabeled frames: step 3's
# one-stage student with online soft targets on the unlabeled frames
# (cmkd-1stage-tinit_..._synkitti-eigen config), CMKD's two stages with
# online soft targets (synkitti-eigen stage 1 + 2), and stage 2 with offline
# pseudo-labels (PseudoLabelHook) on the same stage 1; all are printed side
# by side, and the first is drawn with the BEV feature maps.
# Finished stages are skipped when run again. Knobs (environment):
# DEMO_TRAIN (160), DEMO_VAL (200: with 40 val frames single runs of the
# weak camera students ranked differently than on 200, see the README's
# "Seeds and val frames"), DEMO_EPOCHS (teacher, 12),
# DEMO_DATA (data/synthetic_kitti), DEMO_WORK (work_dirs/demo),
# DEMO_WORKERS (2), DEMO_SEMI (0), DEMO_UNLABELED (160), DEMO_SEED (0: the
# seed of every training, so that a rerun trains the same models),
# DEMO_STUDENT_SCORE_THR (0.15: the lowest score of a camera student's box
# in the pictures of step 6; the teacher's are drawn from 0.3, where the
# students draw almost nothing),
# DEMO_STUDENT_EPOCHS (8: the camera students' epochs, even; the CMKD
# stages take half each, so every student trains the same steps; 16 learns
# far more and takes about twice as long, see the README's "Longer
# schedules"; `make demo-long`), DEMO_TWO_STAGE (0; 1 with DEMO_SEMI=1, whose
# students are two-stage ones), DEMO_ONESTAGE (0).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
TRAIN=${DEMO_TRAIN:-160}
VAL=${DEMO_VAL:-200}
EPOCHS=${DEMO_EPOCHS:-12}
DATA=${DEMO_DATA:-data/synthetic_kitti}
WORK=${DEMO_WORK:-work_dirs/demo}
WORKERS=${DEMO_WORKERS:-2}
SEMI=${DEMO_SEMI:-0}
UNLABELED=0
SEED=${DEMO_SEED:-0}
ONESTAGE=${DEMO_ONESTAGE:-0}
TWOSTAGE=${DEMO_TWO_STAGE:-0}
[ "$SEMI" = 1 ] && TWOSTAGE=1
SEPOCHS=${DEMO_STUDENT_EPOCHS:-8}
SCORE_THR=${DEMO_STUDENT_SCORE_THR:-0.15}
if ! [[ "$SEPOCHS" =~ ^[0-9]+$ ]] || [ $((SEPOCHS % 2)) -ne 0 ] || [ "$SEPOCHS" -lt 2 ]; then
  echo "DEMO_STUDENT_EPOCHS=$SEPOCHS: an even number of epochs >= 2 is needed (the two CMKD stages take half each)" >&2
  exit 2
fi
STAGE_EPOCHS=$((SEPOCHS / 2))
# students of another length train beside the default ones, under the same teacher
SWORK=$WORK
if [ "$SEPOCHS" != 8 ]; then SWORK="$WORK/students_${SEPOCHS}e"; fi
# the schedules scale with max_epochs (one-cycle phases are fractions of it)
stage_opts=(train_cfg.max_epochs="$STAGE_EPOCHS" randomness.seed="$SEED")
[ "$SEMI" = 1 ] && UNLABELED=${DEMO_UNLABELED:-160}
N=5; [ "$SEMI" = 1 ] && N=8; [ "$ONESTAGE" = 1 ] && N=$((N + 1))
[ "$TWOSTAGE" = 1 ] && N=$((N + 1))
step=4  # the optional steps after step 4 count from here
TEACHER=pointpillars_pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py
STUDENT=cmkd-mono3d_r18-aspp-lid40_secfpn-light_1xb2-onecycle-8e_synkitti-3d-3class.py
STAGE1=cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py
STAGE2=cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-4e_synkitti-3d-3class.py
TINIT=cmkd-1stage-tinit_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-8e_synkitti-3d-3class.py
TINIT_SEMI=cmkd-1stage-tinit_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-8e_synkitti-eigen-3d-3class.py
ONE=cmkd-1stage_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb2-onecycle-16e_synkitti-3d-3class.py
SEMI1=cmkd_bev_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-4e_synkitti-eigen-3d-3class.py
SEMI2=cmkd_bev-resp_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-4e_synkitti-eigen-3d-3class.py
PSEUDO=cmkd_bev-pseudo_pointpillars-pillar032_r18-aspp-lid40_1xb4-onecycle-4e_synkitti-eigen-3d-3class.py
start=$(date +%s)
stamp() { echo "   ($(( $(date +%s) - start )) s so far)"; }
# train_and_test CONFIG WORK_DIR CKPT TEST_DIR [KEY=VALUE ...]: train CONFIG
# into WORK_DIR (resuming an interrupted run) unless CKPT exists, with the
# demo's seed and the given --cfg-options, then evaluate CKPT into TEST_DIR
# unless that exists
train_and_test() {
  local cfg=$1 work_dir=$2 ckpt=$3 test_dir=$4
  shift 4
  if [ ! -f "$ckpt" ]; then
    mim train cmkd_mmdet3d "$cfg" --work-dir "$work_dir" \
        $([ -f "$work_dir/last_checkpoint" ] && echo --resume) \
        --cfg-options train_cfg.val_interval=1000 randomness.seed="$SEED" "$@"
  fi
  if [ ! -d "$test_dir" ]; then
    mim test cmkd_mmdet3d "$cfg" --checkpoint "$ckpt" --work-dir "$test_dir"
  fi
}

echo "== 1/$N synthetic KITTI world: $TRAIN train + $VAL val + $UNLABELED unlabeled frames -> $DATA"
python tools/create_data.py synthetic-kitti --out "$DATA" --num-train "$TRAIN" \
    --num-val "$VAL" --num-unlabeled "$UNLABELED" --seed 0 --workers "$WORKERS"
# the configs read data/synthetic_kitti relative to the working directory
if [ "$(cd "$DATA" && pwd)" != "$root/data/synthetic_kitti" ]; then
  mkdir -p data && ln -sfn "$(cd "$DATA" && pwd)" data/synthetic_kitti
fi
stamp

teacher_ckpt="$WORK/teacher/epoch_${EPOCHS}.pth"
echo "== 2/$N the PointPillars LiDAR teacher ($EPOCHS epochs)"
train_and_test "$TEACHER" "$WORK/teacher" "$teacher_ckpt" "$WORK/teacher_test" \
    train_cfg.max_epochs="$EPOCHS"
stamp

# extract STUDENT_PTH CKPT: the student's weights of a CMKD checkpoint
extract() {
  if [ ! -f "$1" ]; then
    python tools/model_converters/extract_student.py "$2" "$1"
  fi
}

# one_stage CFG NAME: a one-stage CMKD run of $SEPOCHS epochs with the teacher
# in $SWORK/NAME, tested in $SWORK/NAME_test, its student extracted to
# $SWORK/NAME/student.pth
one_stage() {
  local ckpt="$SWORK/$2/epoch_${SEPOCHS}.pth"
  train_and_test "$1" "$SWORK/$2" "$ckpt" "$SWORK/$2_test" \
      model.teacher_ckpt="$teacher_ckpt" train_cfg.max_epochs="$SEPOCHS"
  extract "$SWORK/$2/student.pth" "$ckpt"
  stamp
}

echo "== 3/$N CMKD in one stage, camera student: BEV detector from the teacher, BEV + response + depth + ground-truth losses ($SEPOCHS epochs, no stage 1)"
distilled="$SWORK/cmkd_1stage_tinit/student.pth"
one_stage "$TINIT" cmkd_1stage_tinit

echo "== 4/$N the same student without the teacher ($SEPOCHS epochs, same steps)"
alone_ckpt="$SWORK/student_alone/epoch_${SEPOCHS}.pth"
train_and_test "$STUDENT" "$SWORK/student_alone" "$alone_ckpt" \
    "$SWORK/student_alone_test" train_cfg.max_epochs="$SEPOCHS"
stamp

runs=("LiDAR teacher=$WORK/teacher_test"
      "camera student alone=$SWORK/student_alone_test"
      "camera student + CMKD=$SWORK/cmkd_1stage_tinit_test")
dirs="student_alone_test cmkd_1stage_tinit_test"
students=("camera student + CMKD=$distilled"
          "camera student alone=$alone_ckpt")
if [ "$TWOSTAGE" = 1 ]; then
  step=$((step + 1))
  echo "== $step/$N CMKD, the reference's two stages: stage 1 ($STAGE_EPOCHS epochs) + stage 2 ($STAGE_EPOCHS epochs), same steps"
  if [ ! -f "$SWORK/cmkd/student.pth" ]; then
    bash tools/cmkd_two_stage.sh "$teacher_ckpt" "$STAGE1" "$STAGE2" "$SWORK/cmkd" \
        --cfg-options "${stage_opts[@]}"
  fi
  stamp
  runs+=("camera student + CMKD, two stages=$SWORK/cmkd/stage2_test")
  dirs="$dirs cmkd/stage2_test"
  students+=("camera student + CMKD, two stages=$SWORK/cmkd/student.pth")
fi
if [ "$ONESTAGE" = 1 ]; then
  step=$((step + 1))
  echo "== $step/$N CMKD in one stage: stage 2's losses on the student from scratch ($SEPOCHS epochs, same steps)"
  one_stage "$ONE" cmkd_1stage
  runs+=("camera student + CMKD, one stage=$SWORK/cmkd_1stage_test")
  dirs="$dirs cmkd_1stage_test"
  students+=("camera student + CMKD, one stage=$SWORK/cmkd_1stage/student.pth")
fi
if [ "$SEMI" = 1 ]; then
  step=$((step + 1))
  echo "== $step/$N the distilled student of step 3 on labeled + unlabeled frames, online soft targets (one stage, 2 labeled + 2 unlabeled frames per batch, same steps)"
  one_stage "$TINIT_SEMI" cmkd_1stage_tinit_semi
  runs+=("camera student + CMKD + unlabeled=$SWORK/cmkd_1stage_tinit_semi_test")
  dirs="$dirs cmkd_1stage_tinit_semi_test"
  students+=("camera student + CMKD + unlabeled=$SWORK/cmkd_1stage_tinit_semi/student.pth")
  step=$((step + 1))
  echo "== $step/$N CMKD, two stages, on labeled + unlabeled frames, online soft targets (2 labeled + 2 unlabeled frames per batch, same steps)"
  if [ ! -f "$SWORK/cmkd_semi/student.pth" ]; then
    bash tools/cmkd_two_stage.sh "$teacher_ckpt" "$SEMI1" "$SEMI2" \
        "$SWORK/cmkd_semi" --cfg-options "${stage_opts[@]}"
  fi
  stamp
  step=$((step + 1))
  echo "== $step/$N stage 2 with offline pseudo-labels of the unlabeled frames (PseudoLabelHook)"
  train_and_test "$PSEUDO" "$SWORK/cmkd_pseudo" \
      "$SWORK/cmkd_pseudo/epoch_${STAGE_EPOCHS}.pth" "$SWORK/cmkd_pseudo_test" \
      model.teacher_ckpt="$teacher_ckpt" \
      model.stage1_ckpt="$SWORK/cmkd_semi/stage1/epoch_${STAGE_EPOCHS}.pth" \
      "${stage_opts[@]}"
  stamp
  runs+=("CMKD, two stages + unlabeled (online)=$SWORK/cmkd_semi/stage2_test"
         "CMKD, two stages + unlabeled (pseudo-labels)=$SWORK/cmkd_pseudo_test")
  dirs="$dirs cmkd_semi/stage2_test cmkd_pseudo_test"
fi

echo "== $N/$N results on the synthetic val split"
python tools/misc/summarize_results.py --compare "${runs[@]}" \
    --title "KITTI metric, synthetic val split ($VAL frames), moderate, AP40"
python tools/misc/summarize_results.py "$WORK/teacher_test" | tail -2
for d in $dirs; do
  python tools/misc/summarize_results.py "$SWORK/$d" | tail -2
done
# the spread: the same students over the seeds measured by seed_benchmark.py
# at the demo's sizes (world, teacher, 640 steps) and committed with its runs
spread=(docs/benchmarks/synkitti_1stage_tinit_8e/benchmark.json)
[ "$SEMI" = 1 ] && [ "$UNLABELED" = 160 ] \
    && spread+=(docs/benchmarks/synkitti_1stage_semi/benchmark.json)
if [ "$TRAIN/$VAL/$EPOCHS/$SEPOCHS" = 160/200/12/8 ]; then
  echo "== the spread over seeds: the same students at these sizes, measured by seed_benchmark.py (n seeds per column; this run is seed $SEED; README \"One stage from the teacher's BEV detector\")"
  echo "   (trained on another machine with their own teacher: CPU training is not bit-reproducible across machines, so this run's seed-$SEED table can differ from a run elsewhere; compare it with the spread, not with one number)"
  python tools/analysis_tools/seed_benchmark.py --merge "${spread[@]}" \
      --work-dir "$WORK/seed_spread"
fi
echo "distilled student checkpoint (student only): $distilled"
if [ "$TWOSTAGE" = 1 ]; then
  echo "two-stage distilled student (student only): $SWORK/cmkd/student.pth"
fi
if [ "$ONESTAGE" = 1 ]; then
  echo "one-stage distilled student (student only): $SWORK/cmkd_1stage/student.pth"
fi
if [ "$SEMI" = 1 ]; then
  echo "distilled student with unlabeled frames (student only): $SWORK/cmkd_1stage_tinit_semi/student.pth"
fi

# what distillation does: the teacher's and the two students' BEV feature
# maps (channel norm, cosine to the teacher) and predictions, val frames 0-2
bev_dir="$SWORK/bev_features"
if [ -f "$teacher_ckpt" ] && [ -f "$distilled" ] \
    && [ -f "$alone_ckpt" ]; then
  echo "== BEV feature maps of the teacher and the students (val frames 0 1 2)"
  # drawn again when the students or the threshold differ from those of
  # the pictures (a rerun with DEMO_TWO_STAGE=1 or DEMO_ONESTAGE=1 adds one)
  drawn=$(cat "$bev_dir/students.txt" 2>/dev/null || true)
  wanted=$(printf '%s\n' "${students[@]}" "student score >= $SCORE_THR")
  if [ ! -f "$bev_dir/index.md" ] || [ "$drawn" != "$wanted" ]; then
    python tools/analysis_tools/show_bev_features.py \
        --teacher-config "configs/teachers/pointpillars/$TEACHER" \
        --teacher-ckpt "$teacher_ckpt" \
        --student-config "configs/cmkd_mono3d/$STUDENT" \
        --students "${students[@]}" \
        --out-dir "$bev_dir" --frames 0 1 2 --split val --data-root "$DATA" \
        --score-thr 0.3 --student-score-thr "$SCORE_THR"
    printf '%s\n' "$wanted" > "$bev_dir/students.txt"
  else
    sed -n '/^Mean per-frame/,$p' "$bev_dir/index.md"
  fi
  echo "BEV feature maps and predictions (one PNG per frame): $bev_dir/ (list: $bev_dir/index.md)"
  stamp
fi
echo "total time: $(( $(date +%s) - start )) s"

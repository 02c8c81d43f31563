# cmkd_mmdet3d - the two commands of the README, and their helpers.
#   make demo   synthetic KITTI world -> PointPillars teacher -> CMKD (one
#               stage from the teacher's BEV detector) -> distilled camera
#               student vs student alone, on CPU
#   make test   the test suite
#   make demo-long   the demo with camera students of 16 epochs (twice the
#               steps; same teacher), plus the reference's two CMKD stages
#               and CMKD in one stage from scratch beside them
#   make demo-semi   the demo plus 160 unlabeled frames: the distilled
#               student with online soft targets on them, and the two-stage
#               CMKD with online soft targets and with offline pseudo-labels,
#               side by side
#   make demo-nus    multi-camera CMKD (CMKD-MV) on the synthetic nuScenes
#               world: CenterPoint teacher, surround-view student alone and
#               distilled, mAP / NDS side by side
#   make demo-waymo  CMKD on the synthetic Waymo world: PointPillars teacher,
#               front-camera student alone and distilled, Waymo AP / APH
#               (the official op, in the environment of make waymo-env;
#               KITTI-style AP40 when that environment cannot be built)
# The environment lives in $(CMKD_VENV) (default .venv) and is built on first
# use by tools/misc/setup_env.sh; `make install` re-installs the plugin alone.
CMKD_VENV ?= $(CURDIR)/.venv
PY := $(CMKD_VENV)/bin/python
export PATH := $(CMKD_VENV)/bin:$(PATH)
export CMKD_VENV

# everything `pip install .` ships (configs and tools go into .mim/)
PLUGIN_SRC := setup.py MANIFEST.in model-index.yml \
	$(shell find cmkd_mmdet3d configs tools -type f \( -name '*.py' -o -name '*.yml' -o -name '*.sh' -o -name '*.md' \) -not -path '*/.mim/*' 2>/dev/null)
STACK_SRC := tools/misc/setup_env.sh $(filter-out requirements/waymo.txt,$(wildcard requirements/*.txt))
# the Waymo metric's own environment (tensorflow 2.13, numpy 1.23.5)
CMKD_WAYMO_VENV ?= $(CURDIR)/.venv-waymo
export CMKD_WAYMO_VENV

.PHONY: env waymo-env install test demo demo-long demo-semi demo-nus demo-waymo demo-data clean-demo help
help:
	@echo "make demo | make demo-long | make demo-semi | make demo-nus | make demo-waymo | make test | make env | make waymo-env | make install"

env: $(CMKD_VENV)/.cmkd-stack $(CMKD_VENV)/.cmkd-plugin

$(CMKD_VENV)/.cmkd-stack: $(STACK_SRC)
	bash tools/misc/setup_env.sh "$(CMKD_VENV)"
	touch $@ $(CMKD_VENV)/.cmkd-plugin

# non-editable on purpose: mim needs site-packages/cmkd_mmdet3d/.mim
$(CMKD_VENV)/.cmkd-plugin: $(CMKD_VENV)/.cmkd-stack $(PLUGIN_SRC)
	$(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .
	touch $@

# the official Waymo metric runs here, in a subprocess (make test uses it when
# present; CI builds it)
waymo-env: $(CMKD_WAYMO_VENV)/.cmkd-waymo

$(CMKD_WAYMO_VENV)/.cmkd-waymo: tools/misc/setup_waymo_env.sh requirements/waymo.txt
	bash tools/misc/setup_waymo_env.sh "$(CMKD_WAYMO_VENV)"
	touch $@

install:
	$(PY) -m pip install -q --no-deps --no-build-isolation --force-reinstall .
	touch $(CMKD_VENV)/.cmkd-plugin

test: env
	$(PY) -m pytest tests

demo: env
	bash tools/demo.sh

# the demo with students of 16 epochs: they learn far more; and the
# reference's two stages and CMKD in one stage from scratch beside them
# (README, "Longer schedules")
demo-long: env
	DEMO_STUDENT_EPOCHS=16 DEMO_TWO_STAGE=1 DEMO_ONESTAGE=1 bash tools/demo.sh

# the demo plus unlabeled frames: online soft targets and pseudo-labels
demo-semi: env
	DEMO_SEMI=1 bash tools/demo.sh

# multi-camera CMKD on the synthetic nuScenes world
demo-nus: env
	bash tools/demo_nus.sh

# CMKD on the synthetic Waymo world, evaluated with the official Waymo op
demo-waymo: env
	$(MAKE) waymo-env || echo "!! make waymo-env failed: make demo-waymo evaluates with the KITTI-style fallback"
	bash tools/demo_waymo.sh

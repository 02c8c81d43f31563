"""tools/demo.sh (``make demo``) and tools/demo_nus.sh (``make demo-nus``)
with stand-in ``mim`` and ``python`` that record their calls: the order of
the steps, the checkpoints each step hands to the next, what a rerun skips,
and when the pictures are redrawn. A full run takes an hour (the nuScenes
one several), so a wrong path here would show only at its end.

The scripts run from a copy in a temporary tree (they work in their own
repository root and link the world under ``data/``), so the repository is
left alone.
"""
import json
import os
import os.path as osp
import shutil
import stat
import subprocess

import pytest

from conftest import REPO_ROOT

# logs argv as a JSON line; a training writes epoch_<E>.pth and
# last_checkpoint into its --work-dir (E: train_cfg.max_epochs=E, else the
# config name's schedule, ..._cyclic-<E>e_...), a test makes its --work-dir
FAKE_MIM = r'''#!/usr/bin/env python3
import json, os, re, sys
argv = sys.argv[1:]
with open(os.environ['CALL_LOG'], 'a') as f:
    f.write(json.dumps(['mim'] + argv) + '\n')
work = argv[argv.index('--work-dir') + 1]
os.makedirs(work, exist_ok=True)
if argv[0] == 'train':
    epochs = ([a.split('=')[1] for a in argv
               if a.startswith('train_cfg.max_epochs=')] or
              re.findall(r'-(\d+)e_', argv[2]))[-1]
    ckpt = os.path.join(work, f'epoch_{epochs}.pth')
    open(ckpt, 'w').close()
    with open(os.path.join(work, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
'''

# logs argv; the world, the extracted student and the pictures' index are
# the files later steps look for
FAKE_PYTHON = r'''#!/usr/bin/env python3
import json, os, sys
argv = sys.argv[1:]
with open(os.environ['CALL_LOG'], 'a') as f:
    f.write(json.dumps(['python'] + argv) + '\n')
tool = os.path.basename(argv[0])
if tool == 'create_data.py':
    os.makedirs(argv[argv.index('--out') + 1], exist_ok=True)
elif tool == 'extract_student.py':
    open(argv[2], 'w').close()
elif tool == 'show_bev_features.py':
    out = argv[argv.index('--out-dir') + 1]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, 'index.md'), 'w').write('Mean per-frame\n')
'''


@pytest.fixture
def demo_tree(tmp_path):
    """A tree holding a copy of the demo scripts, and a bin folder with the
    stand-ins."""
    root = tmp_path / 'repo'
    (root / 'tools').mkdir(parents=True)
    for script in ('demo.sh', 'demo_nus.sh'):
        shutil.copy(osp.join(REPO_ROOT, 'tools', script), root / 'tools')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('mim', FAKE_MIM), ('python', FAKE_PYTHON)):
        exe = bin_dir / name
        exe.write_text(text)
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return root, bin_dir


def _run(demo_tree, script='demo.sh', **env_extra):
    root, bin_dir = demo_tree
    log = root.parent / 'calls.jsonl'
    if log.exists():
        log.unlink()
    env = dict(os.environ, CALL_LOG=str(log),
               PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               **env_extra)
    for key in [k for k in env if k.startswith('DEMO_') and
                k not in env_extra]:
        del env[key]
    proc = subprocess.run(['bash', str(root / 'tools' / script)],
                          cwd=root, env=env, capture_output=True, text=True)
    calls = [json.loads(line) for line in log.read_text().splitlines()] \
        if log.exists() else []
    return proc, calls


def _tool(call):
    return osp.basename(call[1]) if call[0] == 'python' else call[1]


def test_demo_steps_in_order_then_a_rerun_skips_them(demo_tree):
    proc, calls = _run(demo_tree)
    assert proc.returncode == 0, proc.stderr
    assert [_tool(c) for c in calls] == [
        'create_data.py', 'train', 'test',     # the teacher
        'train', 'test', 'extract_student.py',  # CMKD in one stage
        'train', 'test',                       # the student alone
        'summarize_results.py', 'summarize_results.py',
        'summarize_results.py', 'summarize_results.py',
        'seed_benchmark.py', 'show_bev_features.py']
    teacher, cmkd, alone = calls[1], calls[3], calls[6]
    w = 'work_dirs/demo'
    assert teacher[-1] == 'train_cfg.max_epochs=12'
    assert 'randomness.seed=0' in teacher
    # the distiller gets the teacher's last checkpoint; both students train
    # 8 epochs with the same seed
    assert f'model.teacher_ckpt={w}/teacher/epoch_12.pth' in cmkd
    for student in (cmkd, alone):
        assert student[-1] == 'train_cfg.max_epochs=8'
        assert 'randomness.seed=0' in student
    assert calls[5][2:] == [f'{w}/cmkd_1stage_tinit/epoch_8.pth',
                            f'{w}/cmkd_1stage_tinit/student.pth']
    pictures = calls[-1]
    students = pictures[pictures.index('--students') + 1:
                        pictures.index('--out-dir')]
    assert students == [
        f'camera student + CMKD={w}/cmkd_1stage_tinit/student.pth',
        f'camera student alone={w}/student_alone/epoch_8.pth']
    # the students' boxes from 0.15, the teacher's from 0.3
    assert pictures[pictures.index('--score-thr') + 1] == '0.3'
    assert pictures[pictures.index('--student-score-thr') + 1] == '0.15'
    assert f'{w}/bev_features/' in proc.stdout

    # run again: every training, evaluation and picture is kept
    proc, calls = _run(demo_tree)
    assert proc.returncode == 0, proc.stderr
    assert 'mim' not in [c[0] for c in calls]
    assert [_tool(c) for c in calls if c[0] == 'python'][-1] == \
        'seed_benchmark.py'

    # another threshold for the students: only the pictures are redrawn
    proc, calls = _run(demo_tree, DEMO_STUDENT_SCORE_THR='0.05')
    assert proc.returncode == 0, proc.stderr
    assert 'mim' not in [c[0] for c in calls]
    pictures = calls[-1]
    assert _tool(pictures) == 'show_bev_features.py'
    assert pictures[pictures.index('--student-score-thr') + 1] == '0.05'


def test_demo_refuses_an_odd_number_of_student_epochs(demo_tree):
    proc, calls = _run(demo_tree, DEMO_STUDENT_EPOCHS='3')
    assert proc.returncode == 2
    assert 'DEMO_STUDENT_EPOCHS=3' in proc.stderr
    assert calls == []


def test_demo_nus_hands_the_teacher_to_the_distiller(demo_tree):
    proc, calls = _run(demo_tree, 'demo_nus.sh')
    assert proc.returncode == 0, proc.stderr
    assert [_tool(c) for c in calls] == [
        'create_data.py', 'train', 'test', 'train', 'test', 'train', 'test',
        'summarize_results.py']
    world = calls[0]
    assert world[2] == 'synthetic-nuscenes'
    assert world[world.index('--out') + 1] == 'data/synthetic_nus'
    w = 'work_dirs/demo_nus'
    teacher, t_test, alone, a_test, cmkd, c_test = calls[1:7]
    assert teacher[3].startswith('centerpoint_pillar08_')
    assert t_test[t_test.index('--checkpoint') + 1] == \
        f'{w}/teacher/epoch_4.pth'
    # the student alone and CMKD: the same seed; CMKD gets the teacher
    assert 'randomness.seed=0' in alone and 'randomness.seed=0' in cmkd
    assert cmkd[-1] == f'model.teacher_ckpt={w}/teacher/epoch_4.pth'
    assert not any(a.startswith('model.teacher_ckpt') for a in alone)
    assert a_test[a_test.index('--checkpoint') + 1] == \
        f'{w}/student_alone/epoch_8.pth'
    assert c_test[c_test.index('--checkpoint') + 1] == f'{w}/cmkd/epoch_8.pth'
    assert calls[-1][calls[-1].index('--compare') + 1:][:3] == [
        f'LiDAR teacher={w}/teacher_test',
        f'camera student alone={w}/student_alone_test',
        f'camera student + CMKD={w}/cmkd_test']

    # an interrupted CMKD run resumes; the finished ones are skipped
    os.remove(demo_tree[0] / w / 'cmkd' / 'epoch_8.pth')
    shutil.rmtree(demo_tree[0] / w / 'cmkd_test')
    proc, calls = _run(demo_tree, 'demo_nus.sh', DEMO_SEED='3')
    assert proc.returncode == 0, proc.stderr
    trains = [c for c in calls if c[:2] == ['mim', 'train']]
    assert len(trains) == 1 and '--resume' in trains[0]
    assert 'randomness.seed=3' in trains[0]
    assert [_tool(c) for c in calls if c[0] == 'mim'] == ['train', 'test']

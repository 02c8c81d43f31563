"""tools/cmkd_two_stage.sh with a stand-in ``mim`` that records its calls:
which options reach which stage, the evaluation and the converter."""
import json
import os
import os.path as osp
import stat
import subprocess

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'cmkd_two_stage.sh')

# ``mim`` stand-in: logs its argv as JSON lines; a training writes a
# checkpoint and ``last_checkpoint`` into its --work-dir
FAKE_MIM = r'''#!/usr/bin/env python3
import json, os, sys
argv = sys.argv[1:]
with open(os.environ['MIM_LOG'], 'a') as f:
    f.write(json.dumps(argv) + '\n')
if argv[0] == 'train':
    work = argv[argv.index('--work-dir') + 1]
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, 'epoch_4.pth')
    open(ckpt, 'w').close()
    with open(os.path.join(work, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
'''


def _run(tmp_path, env_extra, *extra):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    mim = bin_dir / 'mim'
    mim.write_text(FAKE_MIM)
    mim.chmod(mim.stat().st_mode | stat.S_IEXEC)
    # the converter stand-in records its arguments
    python = bin_dir / 'fake_python'
    python.write_text('#!/usr/bin/env bash\necho "$@" > "$CONVERT_LOG"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    teacher = tmp_path / 'teacher.pth'
    teacher.write_bytes(b'x')
    log = tmp_path / 'mim.jsonl'
    env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               MIM_LOG=str(log), CONVERT_LOG=str(tmp_path / 'convert.txt'),
               PYTHON=str(python), **env_extra)
    work = tmp_path / 'work'
    subprocess.run(['bash', SCRIPT, str(teacher), 'stage1.py', 'stage2.py',
                    str(work)] + list(extra), env=env, check=True,
                   capture_output=True, text=True)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return calls, work, teacher


def test_options_reach_their_stages_and_the_evaluation(tmp_path):
    calls, work, teacher = _run(
        tmp_path,
        dict(STAGE2_CFG_OPTIONS='train_cfg.val_interval=2',
             TEST_CFG_OPTIONS='model.student.img_backbone.stride=4 '
             'model.student.img_backbone.backbone.out_indices=(0,3)'),
        '--cfg-options', 'randomness.seed=3')
    assert [c[0] for c in calls] == ['train', 'train', 'test']
    stage1, stage2, test = calls
    assert stage1[:4] == ['train', 'cmkd_mmdet3d', 'stage1.py', '--work-dir']
    assert 'train_cfg.val_interval=2' not in stage1
    assert stage1[-2:] == ['--cfg-options', f'model.teacher_ckpt={teacher}']
    assert 'randomness.seed=3' in stage1 and 'randomness.seed=3' in stage2
    # stage 2 starts from stage 1's last checkpoint, with its own options
    assert stage2[-3:] == [
        f'model.teacher_ckpt={teacher}',
        f'model.stage1_ckpt={work}/stage1/epoch_4.pth',
        'train_cfg.val_interval=2']
    # the evaluation loads stage 2's checkpoint into the changed model
    assert test == [
        'test', 'cmkd_mmdet3d', 'stage2.py', '--checkpoint',
        f'{work}/stage2/epoch_4.pth', '--work-dir', f'{work}/stage2_test',
        '--cfg-options', 'model.student.img_backbone.stride=4',
        'model.student.img_backbone.backbone.out_indices=(0,3)']
    assert (tmp_path / 'convert.txt').read_text().split() == [
        osp.join(ROOT, 'tools', 'model_converters', 'extract_student.py'),
        f'{work}/stage2/epoch_4.pth', f'{work}/student.pth']


def test_no_test_options_and_resumed_stages(tmp_path):
    calls, work, _ = _run(tmp_path, {})
    assert calls[2][-2:] == ['--work-dir', f'{work}/stage2_test']
    assert not any('--resume' in c for c in calls)
    # a second run resumes both stages from their checkpoints
    (tmp_path / 'mim.jsonl').unlink()
    calls, _, _ = _run(tmp_path, {})
    assert ['--resume' in c for c in calls] == [True, True, False]


def test_missing_teacher_checkpoint_is_refused(tmp_path):
    res = subprocess.run(['bash', SCRIPT, str(tmp_path / 'nope.pth'),
                          'a.py', 'b.py', str(tmp_path / 'w')],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert f'teacher checkpoint {tmp_path / "nope.pth"} not found' in \
        res.stderr

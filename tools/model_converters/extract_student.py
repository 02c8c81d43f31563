"""Write the student of a CMKD checkpoint as a plain checkpoint that the
student-only config (configs/cmkd_mono3d/...) loads strictly.

    python tools/model_converters/extract_student.py \
        work_dirs/cmkd_.../epoch_4.pth student.pth
    mim test cmkd_mmdet3d cmkd-mono3d_<...>.py --checkpoint student.pth
"""
import argparse
import os.path as osp
import sys

import torch


def extract_student(src: str, dst: str) -> int:
    """Keep ``student.*`` (prefix removed), drop the teacher and the
    optimizer; written atomically. Returns the number of tensors."""
    from cmkd_mmdet3d.compat import safe_load_checkpoint
    from cmkd_mmdet3d.utils.atomic_io import atomic_path
    if not osp.isfile(src):
        raise FileNotFoundError(f'checkpoint {src} not found')
    ckpt = safe_load_checkpoint(src, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    student = {k[len('student.'):]: v for k, v in state.items()
               if k.startswith('student.')}
    if not student:
        raise ValueError(f'{src} has no student.* weights: not a CMKD '
                         'checkpoint')
    meta = dict(ckpt.get('meta', {}) or {})
    meta = {k: v for k, v in meta.items()
            if isinstance(v, (str, int, float, bool))}
    meta['extracted_from'] = osp.abspath(src)
    with atomic_path(dst) as tmp:
        torch.save(dict(meta=meta, state_dict=student), tmp)
    return len(student)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='CMKD checkpoint (student + teacher)')
    parser.add_argument('dst', help='output: the student alone')
    args = parser.parse_args(argv)
    try:
        n = extract_student(args.src, args.dst)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'extract_student: {e}')
    print(f'wrote {n} student tensors to {args.dst}')


if __name__ == '__main__':
    main()

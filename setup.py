"""Packaging for cmkd_mmdet3d.

``pip install .`` builds a wheel; before ``setup()`` runs we materialise
``cmkd_mmdet3d/.mim/{configs,tools,model-index.yml}`` (copied for wheels and
sdists, symlinked for ``setup.py develop``) so that ``mim train/test/run/search
cmkd_mmdet3d`` find them inside the installed package. The ``.mim`` folder is
git-ignored and shipped through MANIFEST.in.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
PKG = 'cmkd_mmdet3d'
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version():
    scope = {}
    with open(osp.join(HERE, PKG, 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(name):
    reqs = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                reqs.append(line)
    return reqs


def add_mim_extension():
    """Copy (wheel/sdist) or link (develop) the mim files into the package."""
    if 'develop' in sys.argv:
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('bdist_wheel', 'sdist')):
        mode = 'copy'
    else:
        return
    mim_root = osp.join(HERE, PKG, '.mim')
    os.makedirs(mim_root, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_root, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_root), dst)
        elif osp.isdir(src):
            shutil.copytree(
                src, dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name=PKG,
        version=read_version(),
        description='CMKD (cross-modality knowledge distillation for '
        'monocular 3D detection) as an MMDetection3D 1.4 plugin',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        keywords='3D object detection, knowledge distillation, monocular, '
        'BEV, KITTI, mmdetection3d',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'demo')),
        include_package_data=True,
        zip_safe=False,
        python_requires='>=3.8',
        license='Apache License 2.0',
        # The OpenMMLab stack (mmcv built from source, --no-deps installs) is
        # set up by tools/misc/setup_env.sh; only light requirements here.
        install_requires=['numpy', 'tqdm'],
        extras_require=dict(
            tests=read_requirements('tests.txt'),
            deploy=read_requirements('deploy.txt')),
    )

"""Find a config of the plugin by file name, as ``mim train`` does."""
import glob
import os.path as osp
from typing import List


def config_roots() -> List[str]:
    """Folders searched for config names: the installed package's
    ``.mim/configs`` and, in a source checkout, ``configs/``."""
    pkg = osp.dirname(osp.dirname(osp.abspath(__file__)))
    roots = [osp.join(pkg, '.mim', 'configs'),
             osp.join(osp.dirname(pkg), 'configs')]
    return [r for r in roots if osp.isdir(r)]


def find_config(name: str) -> str:
    """``name`` when it is a file, else the plugin's config of that file
    name (``cmkd-mono3d_r18-..._synkitti-3d-3class.py``).

    Raises:
        FileNotFoundError: naming ``name`` and the folders searched.
    """
    if osp.isfile(name):
        return name
    roots = config_roots()
    for root in roots:
        hits = sorted(glob.glob(osp.join(root, '**', osp.basename(name)),
                                recursive=True))
        if hits:
            return hits[0]
    raise FileNotFoundError(f'config {name} is neither a file nor a config '
                            f'of cmkd_mmdet3d (searched {roots})')

"""np.long is aliased to ``np.int64`` on numpy versions that lack it
(1.24 - 1.26); mmdet3d 1.4.0's GT sampler uses it.
"""

import numpy as np


def patch_numpy_long() -> bool:
    """Alias ``np.long`` to ``np.int64`` where numpy lacks it.

    Returns:
        bool: True if the alias was added now.
    """
    try:
        np.long  # noqa: B018 (numpy 2.x has it again)
        return False
    except AttributeError:
        np.long = np.int64
        return True

"""Small helpers shared by the datasets, hooks, tools and compat shims."""
from .atomic_io import atomic_open, atomic_path
from .config_path import find_config
from .safe_pickle import (UnsafePickleError, data_allowed_globals,
                          load_pickle_file, numpy_allowed_globals,
                          patch_mmengine_pickle_handler, safe_pickle_load)

__all__ = [
    'atomic_open', 'atomic_path', 'find_config',
    'UnsafePickleError', 'data_allowed_globals', 'load_pickle_file',
    'numpy_allowed_globals', 'patch_mmengine_pickle_handler',
    'safe_pickle_load'
]

"""Import a command-line tool of ``tools/`` (not a package) by path."""
import importlib.util
import os

from conftest import REPO_ROOT


def load_tool(*parts: str):
    """The module ``tools/<parts...>`` of this checkout, e.g.
    ``load_tool('analysis_tools', 'eval_depth.py')``."""
    path = os.path.join(REPO_ROOT, 'tools', *parts)
    name = '_tool_' + os.path.splitext(parts[-1])[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""``cmkd_mmdet3d::`` config paths (:func:`register_config_scope`):
mmengine resolves ``pkg::path`` only for the OpenMMLab packages it lists in
``MODULE2PACKAGE``; we add ours, so that ``get_config`` and ``_base_``
find ``cmkd_mmdet3d::teachers/...`` in the installed package's ``.mim``.
"""


def register_config_scope() -> None:
    """Let mmengine resolve ``cmkd_mmdet3d::<config path>``."""
    from mmengine.config import utils
    utils.MODULE2PACKAGE.setdefault('cmkd_mmdet3d', 'cmkd_mmdet3d')

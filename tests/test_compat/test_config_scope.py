"""compat.config_scope: the cmkd:: config scope."""


def test_cmkd_config_scope_resolves_installed_configs():
    import cmkd_mmdet3d  # noqa: F401
    from mmengine.hub import get_config
    cfg = get_config('cmkd_mmdet3d::teachers/pointpillars/pointpillars_'
                     'pillar032_secfpn_1xb4-cyclic-12e_synkitti-3d-3class.py')
    assert cfg.model.type == 'VoxelNet'

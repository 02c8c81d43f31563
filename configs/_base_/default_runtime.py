# mmdet3d's runtime, plus the registration of this plugin (its models,
# transforms, hooks ...) when a config is parsed: the runtime of every config
# of cmkd_mmdet3d.
_base_ = ['mmdet3d::_base_/default_runtime.py']
custom_imports = dict(imports=['cmkd_mmdet3d'], allow_failed_imports=False)

import bpy

import lavimo_blender


def test_register_unregister_register_again(clean_scene):
    lavimo_blender.register()
    lavimo_blender.unregister()
    lavimo_blender.register()
    lavimo_blender.unregister()
    assert bpy.app.version >= (4, 5, 0)

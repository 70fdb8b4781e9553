"""The block format, one module per concept: IDs (`ids`), the schema of types and fields (`schema`),
the `Block` value (`model`), wiki links (`links`), validation (`validate`), the YAML dialect and its
fast reader (`dialect`, `fast_yaml`), and `parse` / `render`. `mindmem.store.blocks` is the public face.

Pure code: no git, no files.
"""

"""The git facade, one module per git concept (as dulwich splits it).

`mindmem.store.repo.GitRepo` joins them into the one object the rest of mindmem uses. These modules
and `repo.py` are the only ones that use pygit2, and no pygit2 error leaves them: a missing object
is `NotFound`, a ref that moved is `RefConflict`, anything else git refuses is `StateError`.
`values.py` (the plain values handed out) and `binary.py` (the git binary) need no pygit2, so
`lazy.py`'s `LazyRepo`, which `Memory` holds, answers a few reads before loading it.
"""

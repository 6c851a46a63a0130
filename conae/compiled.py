"""UMAP, compiled once per machine rather than once per process.

umap-learn compiles its functions with numba the first time a process uses them (about 45 s on a 2-core CPU),
and most of them are not marked for numba's on-disk cache, so every new process paid it again: a notebook kernel,
a grid's worker, a test. import_umap() imports umap with numba's cache turned on for every function compiled at
import, so the first process on a machine compiles and writes the cache (beside umap's own files, or in the
user's cache folder where those cannot be written) and later processes load it. Numba checks each cached
function against its source file and this CPU, so a changed umap-learn or another machine compiles afresh.
"""
import sys
import warnings


def import_umap():
    """The umap module, its numba functions cached on disk."""
    if "umap" in sys.modules:
        return sys.modules["umap"]
    import numba
    from numba.core.errors import NumbaWarning

    plain_njit, plain_jit = numba.njit, numba.jit

    def cached(decorator):
        def with_cache(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:  # used bare: @numba.njit
                return decorator(cache=True)(args[0])
            return decorator(*args, **{"cache": True, **kwargs})
        return with_cache

    # a function numba cannot cache (one built at run time) is compiled as before; the warning says nothing to a user
    warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
    numba.njit, numba.jit = cached(plain_njit), cached(plain_jit)
    try:
        import umap
    finally:
        numba.njit, numba.jit = plain_njit, plain_jit
    return umap

"""What the code knows beyond the headline numbers: points of code space to decode (grids over planes,
interpolations)."""
import numpy as np


def plane_grid(codes, dims, n):
    """Codes on a regular n x n grid over code dimensions dims (a pair) from the 1st to the 99th percentile
    of codes, the other dimensions at the codes' mean; row-major, the second dimension falling row by row
    (so that it points up in a picture). Returns (grid [n*n, D], values along dims[0], along dims[1])."""
    low, high = np.percentile(codes, [1, 99], axis=0)
    along = [np.linspace(low[d], high[d], n) for d in dims]
    grid = np.tile(codes.mean(axis=0), (n * n, 1))
    rows, cols = np.meshgrid(along[1][::-1], along[0], indexing="ij")
    grid[:, dims[0]], grid[:, dims[1]] = cols.ravel(), rows.ravel()
    return grid.astype(np.float32), along[0], along[1]


def interpolation(start, end, steps):
    """steps codes evenly spaced from start to end, both included."""
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return (1 - t) * start + t * end


def pairs(indices, n_pairs):
    """The ends of the interpolations: consecutive entries of indices paired, (1st, 2nd), (3rd, 4th), ...,
    n_pairs of them at most."""
    indices = list(indices)[:2 * n_pairs]
    return [(indices[i], indices[i + 1]) for i in range(0, len(indices) - 1, 2)]

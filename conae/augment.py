"""Moved inputs: the encoder sees each training image shifted, turned and scaled at random while the decoder must
rebuild it unmoved, so that a new image's code lands near its neighbours' rather than only the training
images' own."""
import math

import torch
import torch.nn.functional as F


def random_shift(x, max_shift, generator):
    """Translates each image by its own random (dy, dx) in [-max_shift, max_shift], zero-filled."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n, 1), generator=generator).to(x.device)
    rows = (torch.arange(h, device=x.device) + dy)[:, :, None]   # [n, h, 1]
    cols = (torch.arange(w, device=x.device) + dx)[:, None, :]   # [n, 1, w]
    return padded[torch.arange(n, device=x.device)[:, None, None], 0, rows, cols].unsqueeze(1)


def random_turn(x, degrees, zoom, generator):
    """Turns each image by its own random angle in [-degrees, degrees] and scales it by a random factor in
    [1 - zoom, 1 + zoom] about its centre (bilinear, zero-filled)."""
    n = len(x)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle) / scale, -torch.sin(angle) / scale
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) / scale, torch.cos(angle) / scale
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def moved(x, cfg, generator):
    """The images as the encoder sees them: shifted, turned and scaled at random as cfg says (x itself if not)."""
    if cfg.shift:
        x = random_shift(x, cfg.shift, generator)
    if cfg.rotate or cfg.zoom:
        x = random_turn(x, cfg.rotate, cfg.zoom, generator)
    return x

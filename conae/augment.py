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
    """The images as the encoder sees them: written by another hand (elastic distortion), with another pen or
    scanner, shifted, turned and scaled at random, as cfg says (x itself if not)."""
    if cfg.elastic:
        x = random_elastic(x, cfg.elastic, 4.0, generator)
    if cfg.pen:
        x = random_pen(x, cfg.pen, cfg.pen * 0.6, cfg.pen * 0.6, generator)
    if cfg.shift:
        x = random_shift(x, cfg.shift, generator)
    if cfg.rotate or cfg.zoom:
        x = random_turn(x, cfg.rotate, cfg.zoom, generator)
    return x


def random_pen(x, p_stroke, p_blur, p_coarse, generator):
    """The same character as another pen and scanner might have left it, each change on its own random share of
    the images: strokes thickened or thinned by a pixel (a grey dilation or erosion, p_stroke), blurred (p_blur), or
    scanned at half the resolution and scaled back (p_coarse)."""
    n = len(x)
    # four rows of draws, of which the changes use three: a fourth is drawn all the same, because the run's random
    # stream (every later move, every later batch order) follows from it, and the committed numbers with it
    pick = torch.rand(4, n, generator=generator).to(x.device)
    thicker = F.max_pool2d(x, 3, stride=1, padding=1)
    thinner = (x - F.max_pool2d(-x, 3, stride=1, padding=1)) / 2  # half an erosion: a thin stroke must survive
    x = torch.where((pick[0] < p_stroke / 2)[:, None, None, None], thicker, x)
    x = torch.where(((pick[0] >= p_stroke / 2) & (pick[0] < p_stroke))[:, None, None, None], thinner, x)
    blur = torch.tensor([0.25, 0.5, 0.25], device=x.device)
    blurred = F.conv2d(F.pad(x, (1, 1, 1, 1)), (blur[:, None] * blur[None, :])[None, None])
    x = torch.where((pick[1] < p_blur)[:, None, None, None], blurred, x)
    coarse = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="bilinear", align_corners=False)
    return torch.where((pick[2] < p_coarse)[:, None, None, None], coarse, x)


def random_elastic(x, alpha, sigma, generator):
    """Simard, Steinkraus and Platt's (2003) elastic distortion: each image warped by its own random displacement
    field, uniform in [-1, 1] per pixel, smoothed by a Gaussian of sigma pixels and scaled by alpha (their MNIST
    setting, alpha 34 and sigma 4, moves strokes by a pixel or two); bilinear, zero-filled."""
    n, _, h, w = x.shape
    field = torch.rand(n, 2, h, w, generator=generator) * 2 - 1
    radius = int(2 * sigma)
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    field = F.pad(field.reshape(2 * n, 1, h, w), (radius,) * 4, mode="reflect")
    field = F.conv2d(F.conv2d(field, taps[None, None, :, None]), taps[None, None, None, :])  # the Gaussian is
    field = field.reshape(n, 2, h, w)  # separable: down the columns, then along the rows (5x fewer operations)
    grid = F.affine_grid(torch.eye(2, 3).repeat(n, 1, 1), [n, 1, h, w], align_corners=False)
    grid = grid + (alpha * field.permute(0, 2, 3, 1) * torch.tensor([2 / w, 2 / h]))
    return F.grid_sample(x, grid.to(x.device), align_corners=False, padding_mode="zeros")

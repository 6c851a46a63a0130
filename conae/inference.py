"""Running a model on images: encode, decode, reconstruct and score, batch by batch, without autograd, in the
memory layout training uses (so a code computed here is bitwise the one training and evaluation saw).

Images are uint8 [N, 28, 28] (a Split's) or float [N, 1, 28, 28] in [0, 1] (the model's input); codes are numpy
[N, D]. Every module that runs a trained model calls these."""
import numpy as np
import torch
import torch.nn.functional as F

from .data import to_float
from .device import channels_last

BATCH = 256


def as_input(images):
    """The model's input, float [N, 1, 28, 28] in [0, 1], from uint8 [N, 28, 28] or float images."""
    return to_float(images) if images.dtype == torch.uint8 else images


def device_of(model):
    return next(model.parameters()).device


@torch.inference_mode()
def in_batches(fn, inputs, device, batch_size=BATCH):
    """fn applied to inputs batch by batch on device, results concatenated on the CPU."""
    return torch.cat([fn(channels_last(x.to(device))).cpu() for x in inputs.split(batch_size)])


def encode(model, images):
    """Codes [N, D] (numpy) of images."""
    model.eval()
    return in_batches(model.encode, as_input(images), device_of(model)).numpy()


def decode(model, codes):
    """Float images [N, 28, 28] in [0, 1] decoded from codes [N, D]."""
    model.eval()
    return in_batches(model.decode, torch.as_tensor(np.asarray(codes), dtype=torch.float32),
                      device_of(model)).squeeze(1)


def reconstruct(model, images):
    """The model's reconstructions [N, 1, 28, 28] of images."""
    model.eval()
    return in_batches(model, as_input(images), device_of(model))


def bce_per_image(reconstructions, images):
    """Mean per-pixel binary cross-entropy of each reconstruction [N, ...] against its image (same shape)."""
    return F.binary_cross_entropy(reconstructions, images, reduction="none").flatten(1).mean(1)


@torch.inference_mode()
def encode_and_score(model, images, batch_size=BATCH):
    """(codes [N, D] numpy, mean per-pixel BCE of the reconstructions) of images, in one pass."""
    model.eval()
    device, codes, bce_sums = device_of(model), [], []
    inputs = as_input(images)
    for x in inputs.split(batch_size):
        x = channels_last(x.to(device))
        z = model.encode(x)
        codes.append(z.cpu())
        bce_sums.append(F.binary_cross_entropy(model.decode(z), x, reduction="sum"))
    return torch.cat(codes).numpy(), torch.stack(bce_sums).sum().item() / inputs.numel()


def test_bce(model, images):
    """Mean per-pixel binary cross-entropy of the reconstructions of images."""
    return encode_and_score(model, images)[1]

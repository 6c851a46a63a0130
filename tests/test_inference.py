"""Running a model on images: the one batched, gradient-free path that training, evaluation, the figures,
recognition and the explorer share."""
import numpy as np
import torch
import torch.nn.functional as F

from conae import inference
from conae.data import to_float
from conae.model import ConvAE


def model_and_images(n=300):
    torch.manual_seed(0)
    model = ConvAE(3).to(memory_format=torch.channels_last)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8)
    return model, images


def test_decode_gives_images():
    out = inference.decode(ConvAE(3), np.zeros((7, 3)))
    assert out.shape == (7, 28, 28) and 0 <= out.min() and out.max() <= 1


def test_uint8_and_float_images_give_the_same_codes_in_batches_without_autograd():
    model, images = model_and_images()
    codes = inference.encode(model, images)  # 300 images: two batches of 256 and 44
    assert isinstance(codes, np.ndarray) and codes.shape == (300, 3)
    assert np.array_equal(codes, inference.encode(model, to_float(images)))
    with torch.no_grad():
        one_pass = model.encode(to_float(images)).numpy()
    assert np.allclose(codes, one_pass, atol=1e-5)
    assert not inference.reconstruct(model, images).requires_grad


def test_encode_and_score_is_encode_and_the_mean_bce_of_the_reconstructions():
    model, images = model_and_images()
    codes, bce = inference.encode_and_score(model, images)
    assert np.array_equal(codes, inference.encode(model, images))
    x = to_float(images)
    with torch.no_grad():  # the BCE computed here in one pass, without conae's batching
        expected = F.binary_cross_entropy(model(x), x).item()
    assert abs(bce - expected) < 1e-6 and abs(inference.test_bce(model, images) - expected) < 1e-6
    reconstructions = inference.reconstruct(model, images)
    per_image = inference.bce_per_image(reconstructions, x)
    assert per_image.shape == (300,) and abs(per_image.mean().item() - expected) < 1e-6
    one = -(x[7] * torch.log(reconstructions[7]) + (1 - x[7]) * torch.log(1 - reconstructions[7])).mean()
    assert abs(per_image[7].item() - one.item()) < 1e-5  # image 7's own BCE, written out

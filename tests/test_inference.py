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


class Dropping(torch.nn.Module):
    """A model whose training mode changes what it computes (dropout): inference must run it in eval mode."""

    def __init__(self):
        super().__init__()
        self.drop = torch.nn.Dropout(0.9)
        self.embed = torch.nn.Linear(784, 3)

    def encode(self, x):
        return self.drop(self.embed(x.flatten(1)))

    def decode(self, z):
        return torch.sigmoid(self.drop(z.sum(1, keepdim=True))).expand(-1, 28 * 28).reshape(-1, 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


def test_every_path_runs_the_model_in_eval_mode_batch_by_batch_in_order():
    model, images = Dropping(), torch.randint(0, 256, (300, 28, 28), dtype=torch.uint8)
    x = to_float(images)
    with torch.no_grad():
        expected = model.eval().embed(x.flatten(1)).numpy()
    for run in (inference.encode, lambda m, i: inference.encode_and_score(m, i)[0]):
        model.train()
        assert np.allclose(run(model, images), expected, atol=1e-6)  # all 300, in order, nothing dropped
    model.train()
    codes = torch.ones(300, 3)
    assert torch.allclose(inference.decode(model, codes), torch.sigmoid(torch.tensor(3.0)).expand(300, 28, 28))
    model.train()
    assert torch.allclose(inference.reconstruct(model, images), model.eval()(x), atol=1e-6)
    model.train()
    assert abs(inference.test_bce(model, images) - F.binary_cross_entropy(model.eval()(x), x).item()) < 1e-6


def test_encode_and_reconstruct_send_the_batches_to_the_model_s_device(monkeypatch):
    model, images, seen = ConvAE(), torch.zeros(3, 28, 28, dtype=torch.uint8), []
    real = inference.in_batches
    monkeypatch.setattr(inference, "in_batches", lambda fn, inputs, device: (seen.append(device),
                                                                            real(fn, inputs, device))[1])
    assert inference.encode(model, images).shape == (3, 3) and inference.reconstruct(model, images).shape == (3, 1, 28, 28)
    assert seen == [inference.device_of(model)] * 2 == [torch.device("cpu")] * 2  # on a GPU: the GPU, not None

import pytest
import torch

from conae.model import ConvAE, weight_norm_sum


def test_shapes_and_code_size():
    model = ConvAE()
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, 3)
    y = model.decode(z)
    assert y.shape == (5, 1, 28, 28) and 0 <= y.min() and y.max() <= 1  # sigmoid pixel probabilities
    assert torch.equal(model(x), y)


@pytest.mark.parametrize("dim", [1, 2, 16])
def test_embedding_dim_is_configurable(dim):
    assert ConvAE(dim).encode(torch.rand(2, 1, 28, 28)).shape == (2, dim)


def test_architecture_is_the_originals():
    # conv 1->16->32->64 (3x3), linear 3136->3, linear 3->3136, convT 64->32->16 (2x2), conv 16->1 (3x3)
    expected = (16 * 9 + 16) + (32 * 16 * 9 + 32) + (64 * 32 * 9 + 64) + (3136 * 3 + 3) \
        + (3 * 3136 + 3136) + (64 * 32 * 4 + 32) + (32 * 16 * 4 + 16) + (16 * 9 + 1)
    assert sum(p.numel() for p in ConvAE().parameters()) == expected == 55_684
    names = [type(m).__name__ for m in ConvAE().modules()][1:]
    assert names == ["Sequential", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU",
                     "Flatten", "Linear", "Sequential", "Linear", "ReLU", "Unflatten", "ConvTranspose2d", "ReLU",
                     "ConvTranspose2d", "ReLU", "Conv2d", "Sigmoid"]


def test_weight_norm_sum_is_the_originals_penalty():
    model = ConvAE()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.encoder[0].bias[:2] = torch.tensor([3.0, 4.0])  # a norm of 5
        model.decoder[-2].bias[0] = -2.0                       # a norm of 2
        model.decoder[0].weight[0, :2] = torch.tensor([1.0, 1.0])  # a norm of sqrt(2)
    # each parameter's own norm, summed: not the norm of all of them together (sqrt(31)), nor squares (31)
    assert weight_norm_sum(model).item() == pytest.approx(7 + 2 ** 0.5)

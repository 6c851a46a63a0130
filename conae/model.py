"""The convolutional autoencoder of the original notebook: 28x28 digit -> embedding_dim numbers -> 28x28."""
import torch
from torch import nn


class ConvAE(nn.Module):
    def __init__(self, embedding_dim=3):
        super().__init__()
        self.embedding_dim = embedding_dim
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 14 x 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 7 x 7
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),                   # 64 x 7 x 7
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, embedding_dim),                         # the code
        )
        self.decoder = nn.Sequential(
            nn.Linear(embedding_dim, 64 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 2, stride=2), nn.ReLU(),           # 32 x 14 x 14
            nn.ConvTranspose2d(32, 16, 2, stride=2), nn.ReLU(),           # 16 x 28 x 28
            nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),                 # pixel probabilities
        )

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def weight_norm_sum(model):
    """sum(p.norm(2)) over all parameters: the original's L2 penalty, before its 0.0005 factor."""
    return torch.stack([p.norm(2) for p in model.parameters()]).sum()


def layer_shapes(model):
    """What each layer makes of one 28x28 image, read by running the model on one: [(part, layer, output shape)],
    each layer with the activation after it, from the input down to the code and back to the rebuilt image."""
    rows, x = [("input", "a 28x28 grey image", (1, 28, 28))], torch.zeros(1, 1, 28, 28)
    with torch.no_grad():
        for part, layers in (("encoder", model.encoder), ("decoder", model.decoder)):
            for layer in layers:
                x = layer(x)
                name = describe_layer(layer)
                if isinstance(layer, (nn.ReLU, nn.Sigmoid)):
                    part_of, before, shape = rows.pop()
                    name, part = f"{before} + {name}", part_of
                rows.append((part, name, tuple(x.shape[1:])))
    return rows


def describe_layer(layer):
    """A layer in a few words: "Conv2d 3x3, 1 -> 16 channels", "MaxPool2d 2x2", "Linear 3136 -> 3"."""
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        size = "x".join(map(str, layer.kernel_size))
        stride = f", stride {layer.stride[0]}" if layer.stride[0] > 1 else ""
        channels = f"{layer.out_channels} channel{'s' * (layer.out_channels > 1)}"
        return f"{type(layer).__name__} {size}{stride}, {layer.in_channels} -> {channels}"
    if isinstance(layer, nn.MaxPool2d):
        return f"MaxPool2d {layer.kernel_size}x{layer.kernel_size}"
    if isinstance(layer, nn.Linear):
        return f"Linear {layer.in_features} -> {layer.out_features}"
    return type(layer).__name__

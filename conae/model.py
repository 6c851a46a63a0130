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

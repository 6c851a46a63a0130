"""Data made or found on this machine, without a download: Debian's full Fashion-MNIST laid out as torchvision
expects and IDX files written from arrays (files), handwriting that is not MNIST's and photographed copies of
characters (transfer: only ever measured on, never trained on), and character sets drawn from the installed fonts
as folders of images (characters: `python -m conae.offline.characters letters data/letters`)."""

"""Where and in what precision a run computes: the device, bfloat16 where it is fast, and the memory layout."""
import os
from contextlib import nullcontext

import torch

# Denormal floats (below 1.2e-38) are flushed to zero: the original recipe's weights shrink under weight decay and its
# L2 term, and on CPUs that pay a microcode assist for each denormal (Intel's) its step rate fell by more than half
# as the run went on (docs/results.md, "Where the time goes"). Set when conae first loads torch, before torch starts
# its thread pool, whose threads inherit the setting; numbers move only where denormals occur, by less than they
# round.
torch.set_flush_denormal(True)


def usable_cores():
    """The CPU cores this process may run on (its affinity where the OS tells it, e.g. under Slurm or taskset)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pick_device(name="auto"):
    """torch.device(name), or for "auto" the first of CUDA, Apple MPS and the CPU that is there."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def has_fast_bf16(device):
    """Whether the device computes in bfloat16 faster than in float32: a CUDA GPU of compute capability 8.0 or
    above (Ampere and later: bfloat16 tensor cores), or a CPU with AMX matrix units (Intel Xeon since Sapphire
    Rapids). Elsewhere bfloat16 is emulated or no faster, although torch.cuda.is_bf16_supported() says True for an
    older GPU that emulates it."""
    if device.type == "cuda":
        return torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        amx = getattr(torch.cpu, "_is_amx_tile_supported", None)  # torch 2.3 and later; older ones: no AMX kernels
        return bool(amx and amx())
    return False


def resolve_precision(precision, device):
    """"fp32" or "bf16" for a Config's precision ("auto" picks bf16 only where has_fast_bf16)."""
    if precision == "auto":
        return "bf16" if has_fast_bf16(device) else "fp32"
    return precision


def autocast(device, precision):
    """The forward pass's context: bfloat16 autocast, or nothing for fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()


def channels_last(x):
    """NHWC memory layout for images on the CPU, where convolutions run faster in it (docs/results.md, "Training
    recipe"); anything else as it is."""
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" and x.dim() == 4 else x

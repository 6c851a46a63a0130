"""The one check of every setting, the presets as documented, and configs read back from old checkpoints."""
import math
from dataclasses import asdict

import pytest

from conae.config import (
    MAX_LR,
    PRESETS,
    Config,
    ConfigError,
    check_setting,
    config_from_dict,
    make_config,
)


def refused(name, value):
    """The one line check_setting gives for a bad value, after checking that it names the setting."""
    with pytest.raises(ConfigError) as e:
        check_setting(name, value)
    assert e.value.setting == name
    return str(e.value)


@pytest.mark.parametrize("name, least", [("steps", 1), ("epochs", 1), ("batch_size", 1), ("embedding_dim", 1),
                                         ("n_neighbors", 2), ("layout_max", 2), ("layout_pca", 0), ("shift", 0),
                                         ("k", 1)])
def test_counts_are_whole_numbers_from_their_least(name, least):
    check_setting(name, least)  # the least is allowed
    check_setting(name, least + 7)
    for bad in (least - 1, float(least), True, "3", None):
        assert refused(name, bad) == f"{name} = {bad!r}: must be a whole number of at least {least}"


def test_train_subset_zero_means_all():
    check_setting("train_subset", 0)
    assert refused("train_subset", -1) == "train_subset = -1: must be a whole number of at least 0 (0: all of them)"


def test_the_learning_rate_is_a_finite_positive_number_up_to_the_cap():
    for good in (1e-9, 1, 3e-3, MAX_LR):
        check_setting("lr", good)
    for bad in (0, 0.0, -1e-3, MAX_LR * 1.001, math.inf, math.nan, True, "0.1", None):
        assert refused("lr", bad) == f"lr = {bad!r}: must be a finite number greater than 0 and at most 1e+06"


@pytest.mark.parametrize("name, good, bad, choices", [
    ("precision", "bf16", "fp8", "auto, fp32, bf16"),
    ("schedule", "constant", "cosine", "onecycle, constant"),
    ("optimizer", "adam", "sgd", "adamw, adam"),
    ("preset", "neighbours", "fast", "default, original, neighbours"),
    ("dataset", "emnist-letters", "letters", "mnist, fashion-mnist, kmnist, emnist-letters, or folder:PATH (a "
                                            "folder of your own images, one folder per class)"),
    ("dataset", "folder:my/letters", "folder:", "mnist, fashion-mnist, kmnist, emnist-letters, or folder:PATH (a "
                                                "folder of your own images, one folder per class)"),
])
def test_choices_name_every_allowed_value(name, good, bad, choices):
    check_setting(name, good)
    assert refused(name, bad) == f"{name} = {bad!r}: choose one of {choices}"


def test_seeds_are_whole_numbers_of_any_sign_and_other_settings_pass():
    for good in (0, -3, 2 ** 40):
        check_setting("seed", good)
    for bad in (1.5, True, "0"):
        assert refused("seed", bad) == f"seed = {bad!r}: must be a whole number"
    check_setting("min_dist", -5)  # settings without a rule are not checked here
    check_setting("data_root", 3)


def test_make_config_applies_the_preset_then_the_overrides():
    assert asdict(make_config()) == asdict(Config())  # the default preset changes nothing
    cfg = make_config("neighbours", seed=4, lr=None, steps=None)  # None: not given
    assert cfg.seed == 4 and cfg.lr == Config.lr and cfg.steps == PRESETS["neighbours"]["steps"]
    assert all(getattr(cfg, name) == value for name, value in PRESETS["neighbours"].items())
    assert make_config("original", steps=500).epochs == 0  # a budget in steps replaces the preset's epochs
    assert make_config("original", steps=500, epochs=3).epochs == 3  # --epochs still wins
    assert make_config("original").epochs == 100 and make_config("default", epochs=2).steps == Config.steps


def test_make_config_refuses_unknown_fields_and_bad_values_by_name():
    with pytest.raises(ConfigError) as e:
        make_config("default", zeta=1, alpha=2)
    assert str(e.value) == "unknown config field(s): alpha, zeta" and e.value.setting == "alpha"
    with pytest.raises(ConfigError) as e:
        make_config("default", batch_size=0)
    assert e.value.setting == "batch_size"
    with pytest.raises(ConfigError) as e:
        make_config("fast")
    assert e.value.setting == "preset"


def test_the_presets_are_the_documented_recipes():
    original = make_config("original")
    # the original notebook: 4,096 images, batch 16, 100 epochs of constant-rate Adam 1e-3 with weight decay 1e-4
    # and 0.0005 * sum(p.norm(2)), float32, images as they come
    assert (original.train_subset, original.batch_size, original.epochs, original.optimizer, original.lr,
            original.schedule, original.weight_decay, original.l2_penalty, original.precision, original.deskew,
            original.shift) == (4096, 16, 100, "adam", 1e-3, "constant", 1e-4, 0.0005, "fp32", False, 0)
    default = make_config("default")
    assert (default.steps, default.epochs, default.batch_size, default.lr, default.schedule, default.optimizer,
            default.weight_decay, default.l2_penalty, default.deskew, default.neighbours, default.precision) == \
        (3555, 0, 64, 1e-2, "onecycle", "adamw", 0.1, 0.0, True, 0.0, "auto")
    neighbours = make_config("neighbours")
    assert (neighbours.neighbours, neighbours.neighbours_decay, neighbours.n_neighbors, neighbours.min_dist,
            neighbours.layout_pca, neighbours.layout_max, neighbours.shift, neighbours.rotate, neighbours.zoom,
            neighbours.elastic, neighbours.pen, neighbours.steps) == \
        (1.0, 0.85, 15, 0.5, 50, 60_000, 2, 6.0, 0.05, 10.0, 0.3, 6000)


def test_a_config_read_back_from_an_old_checkpoint_gets_what_old_runs_did():
    stored = asdict(make_config("default", seed=3))
    for later in ("optimizer", "precision", "deskew"):  # settings added after the first checkpoints were written
        del stored[later]
    stored["knn_k"] = [1, 5]  # a setting of old checkpoints, since retired: the headline k is HEADLINE_K
    old = config_from_dict(stored)
    assert (old.optimizer, old.precision, old.deskew, old.seed) == ("adam", "fp32", False, 3)
    new = asdict(make_config("neighbours", precision="bf16"))
    assert config_from_dict(new) == make_config("neighbours", precision="bf16")  # what a run stored, it gets back


def test_the_settings_of_where_a_run_s_data_is_and_what_it_computes_on():
    from dataclasses import fields
    # these alone may differ when a run is resumed: they do not change what it computes
    assert {f.name for f in fields(Config) if f.metadata["where"]} == {"data_root", "download", "fallback", "device"}


def test_an_unknown_baseline_names_the_setting_it_came_from():
    from conae.config import baseline_names
    with pytest.raises(ConfigError) as e:
        baseline_names("pca,isomap")
    assert e.value.setting == "baselines"

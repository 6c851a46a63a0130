"""conae.offline.characters: letters and Devanagari digits from the fonts a machine has, as ImageFolder folders in which
no font design is both trained on and tested on."""
import numpy as np
import pytest

from conae.offline.characters import SETS, design, font_families, held_out, page
from conae.prepare import prepare


def test_a_designs_weights_widths_and_clones_are_one_design_and_a_third_is_held_out():
    assert design("Open Sans Light") == design("Open Sans") == "open sans"
    assert design("TeXGyreHeros") == design("Nimbus Sans Narrow") == design("Liberation Sans") == "helvetica"
    assert design("Because We Learn") != design("Because We Build")  # each one person's hand
    families = [f"Family {i}" for i in range(9)]
    assert len(held_out(families)) == 3 and held_out(families) == held_out(list(reversed(families)))


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_character_is_drawn_on_paper_and_prepared_as_one_character(name):
    families = font_families(SETS[name][0])
    if len(families) < 2:
        pytest.skip(f"fewer than two installed font families have the {name} (Debian's fonts-deva, "
                    "fonts-freefont-ttf; .ci/run installs them)")
    rng = np.random.default_rng(0)
    font = next(iter(families.values()))[0]
    first, second = (prepare(page(character, font, rng)) for character in SETS[name][0][:2])
    assert first.shape == (28, 28) and first.max() > 128 and not (first == second).all()

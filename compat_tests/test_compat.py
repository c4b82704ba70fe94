"""Every compat case measures its expected outcome under the profile this run was patched with.

One parametrized test over the case table (``compat_tests/cases``): adding a library is one
``@case`` entry, nothing here. Test ids are ``family/library`` so ``-k databases`` still selects a
family.
"""

import pytest

from compat_tests.cases import Case, load_all


def _cases() -> list[Case]:
    return sorted(load_all().values(), key=lambda c: (c.family, c.library))


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c.family}/{c.library}")
def test_library_measures_its_expected_outcome(case: Case, compat) -> None:
    compat(case)

"""Compatibility of the http family under the profile this run was patched with."""

import pytest

from compat_tests.cases import by_family


@pytest.mark.parametrize("case", by_family("http"), ids=lambda c: c.library)
def test_http_library_measures_its_expected_outcome(case, compat):
    compat(case)

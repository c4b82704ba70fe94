"""Compatibility of the rpc family under the profile this run was patched with."""

import pytest

from compat_tests.cases import by_family


@pytest.mark.parametrize("case", by_family("rpc"), ids=lambda c: c.library)
def test_rpc_library_measures_its_expected_outcome(case, compat):
    compat(case)

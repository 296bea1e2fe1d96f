"""Test configuration: hypothesis profiles and the ``--thorough`` switch.

* Default (CI) profile ``ci``: few examples, no deadline, derandomized, so the whole suite stays
  within CI's time and gives the same cases on every run.
* ``pytest --thorough`` (or ``VAETHEORY_THOROUGH=1``) loads profile ``thorough``: many more
  examples, and property tests use their longer optimisation runs (see ``tests.strategies.budget``).
"""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=10,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption(
        "--thorough",
        action="store_true",
        default=False,
        help="run the property-based tests with the thorough profile (more examples, longer runs)",
    )


def pytest_configure(config):
    import tests.strategies as strategies

    thorough = config.getoption("--thorough") or os.environ.get("VAETHEORY_THOROUGH") == "1"
    strategies.THOROUGH = bool(thorough)
    settings.load_profile("thorough" if thorough else "ci")


@pytest.fixture(autouse=True)
def _no_leaked_flush_to_zero():
    """Fail the test that leaves torch's flush-denormal mode on (process-wide state).

    Flush-to-zero also changes numpy's and hypothesis' float arithmetic in every later test, so a
    library entry point that sets it must restore it (``vaetheory.empirical.training.flush_denormals``).
    """
    yield
    torch = sys.modules.get("torch")
    if torch is not None and float(torch.tensor(1e-300, dtype=torch.float64) * 1e-10) == 0.0:
        torch.set_flush_denormal(False)
        pytest.fail("this test left torch.set_flush_denormal(True) on for the rest of the process")


@pytest.fixture
def one_torch_thread():
    """Run the test on one torch thread, then restore the previous count.

    Small networks train several times faster on one thread on CI's two shared cores (a second
    thread only adds synchronisation to operators this small). Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

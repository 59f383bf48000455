"""How pytest-xdist hands the tests to its workers (``--dist loadscope``, tests/conftest.py).

A work unit is a whole test module, so a module's fixtures (a prepared site, its servers, a
browser) are set up on one worker only; the modules named in ``SPLIT_BY_PARAMETER`` are split
into one unit per parameter id instead (``test_generated_site.py``: one per combination, each
with its own module fixture), so their combinations run side by side. Units start heaviest
first (``HEAVY_FIRST``, then the rest in collection order), so that no long module is left to
run alone at the end.

pytest-xdist's own ``--dist loadgroup`` (``xdist_group`` markers) does not group with pytest
9.2: it renames node ids through an attribute pytest no longer reads (pytest-xdist issue 1386),
so the grouping lives here, on node ids alone, which is all the scheduler sees.
"""

from __future__ import annotations

import re

from xdist.scheduler import LoadScopeScheduling

#: Modules split into one work unit per parameter id (the text in the test id's brackets).
SPLIT_BY_PARAMETER = ("tests/test_generated_site.py", "tests/test_railway_emulation.py")
#: Modules (or split units' modules) that start first, the longest first.
HEAVY_FIRST = (
    "tests/test_redeploys.py",
    "tests/test_railway_emulation.py",
    "tests/test_generated_site.py",
    "tests/test_hostile_answers.py",
    "tests/test_lighthouse.py",
    "tests/test_observatory.py",
    "tests/test_browser.py",
    "tests/test_connection_budget.py",
    "tests/test_media_bucket.py",
    "tests/test_mail_and_tasks.py",
    "tests/test_admin_security.py",
    "tests/test_package_managers.py",
    "tests/test_replicas.py",
)
PARAMETER = re.compile(r"\[(.*)\]$")


def work_unit(nodeid: str) -> str:
    """Return the work unit of a test: its module, or module[parameter] for a split module."""
    module = nodeid.split("::", 1)[0]
    if module in SPLIT_BY_PARAMETER:
        parameter = PARAMETER.search(nodeid)
        if parameter:
            return f"{module}[{parameter.group(1)}]"
    return module


def start_rank(unit: str) -> int:
    """Return where a unit starts: its module's place in HEAVY_FIRST, after them the rest."""
    module = unit.split("[", 1)[0]
    return HEAVY_FIRST.index(module) if module in HEAVY_FIRST else len(HEAVY_FIRST)


def heavy_first(nodeids: list[str]) -> list[int]:
    """Return the indexes of ``nodeids`` in run order: HEAVY_FIRST's modules first, in order.

    The sort is stable, so tests keep their order within a module (and pytest's grouping of a
    module fixture's parameters holds).
    """
    return sorted(range(len(nodeids)), key=lambda i: start_rank(work_unit(nodeids[i])))


class ModuleScheduling(LoadScopeScheduling):
    """pytest-xdist's loadscope with work units from ``work_unit``, in collection order.

    The collection is already heaviest first (``heavy_first``, from tests/conftest.py), so
    loadscope's own reordering (by number of tests) is switched off.
    """

    def __init__(self, config, log=None) -> None:
        super().__init__(config, log)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)

"""What keeps pytest-xdist workers (and runs side by side) apart on the shared servers.

Each worker names its PostgreSQL databases and numbers its Redis databases for itself
(``tests/support/databases.py``); two workers, or two runs with different offsets, never share
one. The scheduler (``tests/support/scheduling.py``) keeps a module on one worker, splits the
modules it names by parameter, and starts the heavy ones first.
"""

from __future__ import annotations

import itertools

import pytest

from tests.support.combinations import COMBINATIONS, TEMPLATE_DIR, answer
from tests.support.databases import database_name, redis_url
from tests.support.scheduling import HEAVY_FIRST, SPLIT_BY_PARAMETER, heavy_first, work_unit

WORKERS = ["gw0", "gw1", "gw2", "gw3"]
REDIS_USERS = [c.id for c in COMBINATIONS if answer(c.answers, "use_redis")]


def numbers_for(monkeypatch, offset: str) -> dict[tuple[str, str], str]:
    """Return (worker, combination) -> Redis URL for every worker and Redis combination."""
    monkeypatch.setenv("CFMP_TEST_REDIS_OFFSET", offset)
    urls = {}
    for worker, combination_id in itertools.product(WORKERS, REDIS_USERS):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        urls[worker, combination_id] = redis_url(combination_id)
    return urls


def test_some_combination_uses_redis():
    assert REDIS_USERS, "no combination uses Redis: the checks below would check nothing"


def test_workers_never_share_a_redis_database(monkeypatch):
    urls = numbers_for(monkeypatch, "0")
    assert len(set(urls.values())) == len(urls), urls


def test_an_offset_moves_every_redis_database(monkeypatch):
    plain, shifted = numbers_for(monkeypatch, "0"), numbers_for(monkeypatch, "11")
    assert not set(plain.values()) & set(shifted.values()), (plain, shifted)


def test_outside_xdist_the_numbers_start_at_the_offset(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("CFMP_TEST_REDIS_OFFSET", "5")
    assert redis_url(REDIS_USERS[0]).endswith("/5")


def test_a_combination_without_redis_gets_no_number():
    without = next(c.id for c in COMBINATIONS if not answer(c.answers, "use_redis"))
    with pytest.raises(ValueError, match=f"{without} does not use Redis"):
        redis_url(without)


def test_workers_never_share_a_postgresql_database(monkeypatch):
    names = set()
    for worker in WORKERS:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        names.add(database_name("default-live"))
    assert len(names) == len(WORKERS), names


# --------------------------------------------------------------------------- work units


def test_a_module_is_one_work_unit():
    assert work_unit("tests/test_bake.py::test_x[default]") == "tests/test_bake.py"
    assert work_unit("tests/test_bake.py::TestA::test_y") == "tests/test_bake.py"


def test_split_modules_are_one_unit_per_parameter():
    units = {
        work_unit(f"tests/test_generated_site.py::{test}[{combination.id}]")
        for test in ("test_site_test_suite", "test_site_collectstatic")
        for combination in COMBINATIONS
    }
    assert units == {f"tests/test_generated_site.py[{c.id}]" for c in COMBINATIONS}


def test_heavy_modules_run_first_and_keep_their_order():
    nodeids = [
        "tests/test_bake.py::test_a",
        "tests/test_generated_site.py::test_suite[default]",
        "tests/test_bake.py::test_b",
        "tests/test_railway_emulation.py::test_deploy[redis]",
        "tests/test_generated_site.py::test_suite[redis]",
    ]
    ordered = [nodeids[i] for i in heavy_first(nodeids)]
    assert ordered == [nodeids[3], nodeids[1], nodeids[4], nodeids[0], nodeids[2]]


def test_every_named_module_exists():
    for module in {*SPLIT_BY_PARAMETER, *HEAVY_FIRST}:
        assert (TEMPLATE_DIR / module).is_file(), f"{module} is named in scheduling.py"

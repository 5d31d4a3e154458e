"""Hidden test of the testing-linting lab: cleaning up inventory.py kept what it does."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

import inspect
from datetime import UTC, datetime

import pytest

from {{ project.package }} import inventory
from {{ project.package }}.models import Item


def item(name: str, quantity: int) -> Item:
    return Item(id=1, name=name, description=None, quantity=quantity, created_at=datetime.now(UTC))


def test_the_report_is_unchanged() -> None:
    items = [item("Widget", 12), item("Bolt", 0), item("Gadget", 2), item("Nut", 5), item("X", 1)]

    report = inventory.stock_report(items, low_stock=3, target=10, pack_size=6, ignore=["X"])

    assert (report.items, report.units) == (4, 19)
    assert report.out_of_stock == ["Bolt"]
    assert report.low_stock == ["Gadget"]
    assert [(r.name, r.quantity) for r in report.reorders] == [
        ("Bolt", 12),
        ("Gadget", 12),
        ("Nut", 6),
    ]


def test_the_defaults_are_unchanged() -> None:
    report = inventory.stock_report([item("Widget", 3), item("Bolt", 4)])
    assert report.low_stock == ["Widget"]
    assert [(r.name, r.quantity) for r in report.reorders] == [("Bolt", 6), ("Widget", 12)]


def test_ignore_has_an_immutable_default() -> None:
    default = inspect.signature(inventory.stock_report).parameters["ignore"].default
    assert not isinstance(default, list | dict | set)


@pytest.mark.parametrize(
    ("quantity", "low"), [(0, False), (1, True), (3, True), (4, False), (-1, False)]
)
def test_is_low_is_unchanged(quantity: int, low: bool) -> None:
    assert inventory.is_low(item("Widget", quantity), 3) is low


def test_parse_names_is_unchanged() -> None:
    assert inventory.parse_names(None) == []
    assert inventory.parse_names(" Widget , ,Gadget ") == ["Widget", "Gadget"]


def test_a_bad_pack_size_raises_value_error_even_under_python_dash_o() -> None:
    # `assert` statements vanish under `python -O`: a check that must hold raises instead.
    with pytest.raises(ValueError, match="pack_size"):
        inventory.reorder_quantity(3, target=10, pack_size=0)

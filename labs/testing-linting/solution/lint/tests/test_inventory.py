"""The stock report: the rules on their own, then through GET /inventory/report."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from {{ project.package }}.inventory import (
    Reorder,
    is_low,
    parse_names,
    reorder_quantity,
    stock_report,
)
from {{ project.package }}.models import Item


def item(name: str, quantity: int) -> Item:
    return Item(id=1, name=name, description=None, quantity=quantity, created_at=datetime.now(UTC))


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(0, 12), (3, 12), (4, 6), (9, 6), (10, 0), (25, 0)],
)
def test_reorder_quantity_fills_up_in_whole_packs(quantity: int, expected: int) -> None:
    assert reorder_quantity(quantity, target=10, pack_size=6) == expected


@pytest.mark.parametrize("pack_size", [0, -6])
def test_reorder_quantity_refuses_packs_of_nothing(pack_size: int) -> None:
    with pytest.raises(ValueError, match="pack_size"):
        reorder_quantity(3, target=10, pack_size=pack_size)


@pytest.mark.parametrize(("quantity", "low"), [(0, False), (1, True), (3, True), (4, False)])
def test_is_low_means_in_stock_but_at_most_the_threshold(quantity: int, low: bool) -> None:
    assert is_low(item("Widget", quantity), threshold=3) is low


@pytest.mark.parametrize(
    ("value", "names"),
    [(None, []), ("", []), ("Widget", ["Widget"]), (" Widget , ,Gadget ", ["Widget", "Gadget"])],
)
def test_parse_names(value: str | None, names: list[str]) -> None:
    assert parse_names(value) == names


def test_stock_report() -> None:
    items = [item("Widget", 12), item("Bolt", 0), item("Gadget", 2), item("Nut", 5)]

    report = stock_report(items, low_stock=3, target=10, pack_size=6)

    assert report.items == 4
    assert report.units == 19
    assert report.out_of_stock == ["Bolt"]
    assert report.low_stock == ["Gadget"]
    assert report.reorders == [
        Reorder(name="Bolt", quantity=12),
        Reorder(name="Gadget", quantity=12),
        Reorder(name="Nut", quantity=6),
    ]


def test_stock_report_leaves_out_ignored_names() -> None:
    report = stock_report([item("Widget", 0), item("Bolt", 0)], ignore=["Widget"])
    assert report.items == 1
    assert report.out_of_stock == ["Bolt"]


def test_stock_report_of_nothing() -> None:
    report = stock_report([])
    assert (report.items, report.units, report.reorders) == (0, 0, [])


def test_report_over_http(client: TestClient) -> None:
    for name, quantity in [("Widget", 12), ("Bolt", 0), ("Gadget", 2)]:
        client.post("/items", json={"name": name, "quantity": quantity})

    response = client.get("/inventory/report", params={"ignore": "Widget", "pack_size": 5})

    assert response.status_code == 200
    assert response.json() == {
        "items": 2,
        "units": 2,
        "out_of_stock": ["Bolt"],
        "low_stock": ["Gadget"],
        "reorders": [{"name": "Bolt", "quantity": 10}, {"name": "Gadget", "quantity": 10}],
    }


def test_report_reads_every_page(client: TestClient) -> None:
    for n in range(105):
        client.post("/items", json={"name": f"Item {n:03}", "quantity": 20})
    assert client.get("/inventory/report").json()["items"] == 105


@pytest.mark.parametrize("params", [{"low_stock": -1}, {"target": -1}, {"pack_size": 0}])
def test_report_refuses_bad_parameters(client: TestClient, params: dict[str, int]) -> None:
    assert client.get("/inventory/report", params=params).status_code == 422

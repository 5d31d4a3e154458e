"""The stock report: how much is in stock, what runs low, and what to reorder."""

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from {{ project.package }}.models import Item


@dataclass(frozen=True, slots=True)
class Reorder:
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockReport:
    items: int
    units: int
    out_of_stock: list[str]
    low_stock: list[str]
    reorders: list[Reorder]


def reorder_quantity(quantity: int, *, target: int, pack_size: int) -> int:
    """How many units to order to reach `target`, in whole packs; 0 when there are enough."""
    if pack_size < 1:
        raise ValueError("pack_size must be at least 1")
    missing = target - quantity
    if missing <= 0:
        return 0
    return math.ceil(missing / pack_size) * pack_size


def is_low(item: Item, threshold: int) -> bool:
    """In stock, but no more than `threshold` units."""
    return 0 < item.quantity <= threshold


def parse_names(value: str | None) -> list[str]:
    """Names from a comma-separated list such as "Widget, Gadget"; none when it is missing."""
    if value is None:
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def stock_report(
    items: Iterable[Item],
    *,
    low_stock: int = 3,
    target: int = 10,
    pack_size: int = 6,
    ignore: Collection[str] = (),
) -> StockReport:
    """The report on `items`, leaving out those named in `ignore`; names in alphabetical order."""
    counted = sorted((item for item in items if item.name not in ignore), key=lambda i: i.name)
    reorders = []
    for item in counted:
        amount = reorder_quantity(item.quantity, target=target, pack_size=pack_size)
        if amount:
            reorders.append(Reorder(name=item.name, quantity=amount))
    return StockReport(
        items=len(counted),
        units=sum(item.quantity for item in counted),
        out_of_stock=[item.name for item in counted if item.quantity == 0],
        low_stock=[item.name for item in counted if is_low(item, low_stock)],
        reorders=reorders,
    )

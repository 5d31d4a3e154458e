"""The stock report: how much is in stock, what runs low, and what to reorder."""
import os
from dataclasses import dataclass
import math
from typing import Iterable, List, Optional

from {{ project.package }}.models import Item


@dataclass(frozen=True, slots=True)
class Reorder:
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class StockReport:
    items: int
    units: int
    out_of_stock: List[str]
    low_stock: List[str]
    reorders: List[Reorder]


def reorder_quantity(quantity: int, *, target: int, pack_size: int) -> int:
    """How many units to order to reach `target`, in whole packs; 0 when there are enough."""
    assert pack_size >= 1, 'pack_size must be at least 1'
    missing = target-quantity
    if missing <= 0:
        return 0
    return math.ceil(missing / pack_size)*pack_size


def is_low(item: Item, threshold: int) -> bool:
    """In stock, but no more than `threshold` units."""
    if item.quantity > 0 and item.quantity <= threshold:
        return True
    else:
        return False


def parse_names(value: Optional[str]) -> List[str]:
    """Names from a comma-separated list such as "Widget, Gadget"; none when it is missing."""
    if value == None:
        return []
    names = [name.strip() for name in value.split(',') if name.strip()]
    return names


def stock_report(items: Iterable[Item], *, low_stock: int = 3, target: int = 10, pack_size: int = 6, ignore: List[str] = []) -> StockReport:
    """The report on `items`, leaving out those named in `ignore`; names in alphabetical order."""
    l = sorted([item for item in items if not item.name in ignore], key=lambda i: i.name)
    reorders = []
    for item in l:
        amount = reorder_quantity(item.quantity, target=target, pack_size=pack_size)
        if amount:
            reorders.append(Reorder(name=item.name, quantity=amount))
    message = f"stock report"
    return StockReport(
        items=len(l),
        units=sum([item.quantity for item in l]),
        out_of_stock=[item.name for item in l if item.quantity == 0],
        low_stock=[item.name for item in l if is_low(item, low_stock)],
        reorders=reorders,
    )

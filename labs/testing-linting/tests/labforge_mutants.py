"""A pytest plugin of the testing-linting lab's hidden tests: breaks one function of inventory.py.

`-p labforge_mutants` loads it before any test module or conftest.py is imported, so a test's
`from ... import`, the app's routes and the report's own calls all get the broken function. Which
one: the LABFORGE_MUTANT environment variable. Each keeps raising where the original raises.
"""

import os
from collections.abc import Iterable
from typing import Any

from {{ project.package }} import inventory
from {{ project.package }}.models import Item

original_reorder_quantity = inventory.reorder_quantity
original_is_low = inventory.is_low
original_parse_names = inventory.parse_names
original_stock_report = inventory.stock_report


def reorder_quantity(quantity: int, *, target: int, pack_size: int) -> int:
    """Orders the exact shortfall, forgetting that units come in whole packs."""
    original_reorder_quantity(quantity, target=target, pack_size=pack_size)
    return max(target - quantity, 0)


def is_low(item: Item, threshold: int) -> bool:
    """Answers the opposite."""
    return not original_is_low(item, threshold)


def parse_names(value: str | None) -> list[str]:
    """Finds no names at all."""
    original_parse_names(value)
    return []


def stock_report(items: Iterable[Item], **options: Any) -> Any:
    """Reports on nothing, whatever the items."""
    list(items)
    return original_stock_report([], **options)


BROKEN = {
    "reorder_quantity": reorder_quantity,
    "is_low": is_low,
    "parse_names": parse_names,
    "stock_report": stock_report,
}

setattr(inventory, os.environ["LABFORGE_MUTANT"], BROKEN[os.environ["LABFORGE_MUTANT"]])

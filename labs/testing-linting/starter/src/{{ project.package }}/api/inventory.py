"""The stock report over HTTP: GET /inventory/report."""

from typing import Annotated

from fastapi import APIRouter, Query

from {{ project.package }}.dependencies import ItemsDep
from {{ project.package }}.inventory import StockReport, parse_names, stock_report
from {{ project.package }}.models import Item

router = APIRouter(prefix="/inventory", tags=["inventory"])

PAGE = 100


async def all_items(items: ItemsDep) -> list[Item]:
    """Every item, read a page at a time."""
    everything: list[Item] = []
    while page := await items.get_many(offset=len(everything), limit=PAGE):
        everything.extend(page)
    return everything


@router.get("/report")
async def report(
    items: ItemsDep,
    low_stock: Annotated[int, Query(ge=0, description="At most this many units is low")] = 3,
    target: Annotated[int, Query(ge=0, description="Reorder up to this many units")] = 10,
    pack_size: Annotated[int, Query(ge=1, description="Units come in packs of this size")] = 6,
    ignore: Annotated[str | None, Query(description="Names to leave out, comma-separated")] = None,
) -> StockReport:
    """What is in stock, what runs low, and what to reorder to reach the target."""
    return stock_report(
        await all_items(items),
        low_stock=low_stock,
        target=target,
        pack_size=pack_size,
        ignore=parse_names(ignore),
    )

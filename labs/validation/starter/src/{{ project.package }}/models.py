"""What the repositories store and hand back to the routes."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    name: str
    description: str | None
    quantity: int
    # What the shop paid for one, in cents. The back office sets it; customers never see it.
    cost: int
    created_at: datetime

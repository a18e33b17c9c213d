"""Battery state during a session: charge per pack, drained by the ledger, packs hot-swapped.

The S1 carries one pack per temple; swapping one while the other carries the load is why a
swap keeps the session (and its ledger) running instead of starting a new one.
"""

from __future__ import annotations

from oculi.errors import OculiError
from oculi.runtime.power.model import BatteryModel


class Battery:
    """Charge in joules per pack; drained evenly, since the packs share the load."""

    def __init__(self, model: BatteryModel, level: float = 1.0) -> None:
        if not 0.0 <= level <= 1.0:
            raise OculiError(f"battery level {level:g} must lie within 0..1")
        self.model = model
        self.charge = [model.pack_joules * level] * model.packs
        self.swaps = 0

    @property
    def level(self) -> float:
        return sum(self.charge) / self.model.joules

    @property
    def empty(self) -> bool:
        return sum(self.charge) <= 0.0

    def drain(self, joules: float) -> None:
        share = joules / len(self.charge)
        self.charge = [max(0.0, c - share) for c in self.charge]

    def swap(self) -> int:
        """Replace the emptiest pack with a full one; returns which pack was swapped."""
        if not self.model.swappable or self.model.packs < 2:
            raise OculiError(
                "this profile's battery is not hot-swappable (power.battery.swappable = false)"
            )
        pack = min(range(len(self.charge)), key=lambda i: self.charge[i])
        self.charge[pack] = self.model.pack_joules
        self.swaps += 1
        return pack

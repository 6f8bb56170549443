"""How much SMS volume a SIM has left, judged one way for every entity.

The SIM list only says "more or less than 20 %"; the per-SIM quota says exactly
how many SMS are left. The binary sensor, the quota state sensor and the
account's counts must agree on which SIMs are low, so they all ask this module.
"""

from __future__ import annotations

from .api import QuotaLevel, QuotaStatus, Sim
from .coordinator import SimDetails


def sms_level(
    sim: Sim, details: SimDetails | None, threshold: float
) -> QuotaLevel | None:
    """Judge the SIM's SMS volume against the user's threshold (in percent).

    The exact volume wins when it is known. Without it (details not fetched
    yet, failed, or 1NCE answered `{}`) the list's own level stands in, which
    uses 1NCE's fixed 20 %; None means nobody told us anything.
    """
    quota = details.sms_quota if details is not None else None
    if quota is not None and quota.status is QuotaStatus.EXPIRED:
        # Volume left on an expired quota cannot be spent: the Portal shows
        # it as used up, and so do we.
        return QuotaLevel.EXHAUSTED
    if quota is None or quota.volume is None:
        return sim.sms_quota_level
    if quota.volume <= 0:
        # 1NCE reports overdrawn SIMs with a negative volume.
        return QuotaLevel.EXHAUSTED
    if not quota.total_volume or quota.total_volume <= 0:
        # A share of an unknown total cannot be judged; trust the list.
        return sim.sms_quota_level or QuotaLevel.SUFFICIENT
    if quota.volume / quota.total_volume * 100 < threshold:
        return QuotaLevel.LOW
    return QuotaLevel.SUFFICIENT

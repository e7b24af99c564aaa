"""Vietnam's time: what the portals print their dates in, what a digest's week is counted
in and what readers read times in. Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving).

The one definition: `Settings.timezone` defaults to its name (BANTIN_TIMEZONE overrides
what the digest counts in; dates printed by the portals are always read in LOCAL_TZ).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

"""The demo's follow-up log (跟进记录): touches whose rhythm really drives outcomes.

Every deal gets its own rhythm (median days between touches, from every ~2 to every ~20 days), so
"always quiet" and "suddenly quiet" differ. Touches run from creation to the deal's stored
`last_activity_at` (the log and the deals table agree). Deals that were lost slow down in the last
part of their life (gaps FADE_FACTOR times longer) before the silence the deals table already
holds, and their main customer contact changes more often (CHANGE_SHARE). Deterministic: the
generator's own stream is seeded from the demo seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.activity.model import CALL, EMAIL, MEETING, MESSAGE, NOTE, normalise_activities
from dealscope.model import LOST, OPEN, WON

STREAM = 18  # the issue number: a stream of its own, so the deals stay as they were
RHYTHM_MEDIAN_DAYS, RHYTHM_SPREAD = 4.5, 0.6
FADE_START, FADE_FACTOR = 0.6, 3.0  # lost deals: gaps 3x longer in the last 40% of their life
CHANGE_SHARE = {WON: 0.06, LOST: 0.40, OPEN: 0.15}
TYPES = (CALL, MESSAGE, EMAIL, MEETING, NOTE)
TYPE_SHARES = (0.34, 0.30, 0.15, 0.13, 0.08)
SUBJECTS = {
    CALL: "电话沟通项目进展",
    MESSAGE: "微信跟进",
    EMAIL: "邮件发送资料",
    MEETING: "上门拜访",
    NOTE: "内部备注",
}
CONTACT_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦许何吕施张孔曹严华金魏陶姜"
CONTACT_TITLES = ("总", "经理", "主任", "工", "总监")
MAX_TOUCHES = 160


def generate_demo_activities(opportunities: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The canonical follow-up log of the demo deals (same deals and seed, same log)."""
    rng = np.random.default_rng([seed, STREAM])
    n = len(opportunities)
    created = opportunities["created_at"].to_numpy("datetime64[ns]")
    last = opportunities["last_activity_at"].fillna(opportunities["created_at"])
    last = last.to_numpy("datetime64[ns]")
    status = opportunities["status"].astype(str).to_numpy()
    span = np.maximum((last - created) / np.timedelta64(1, "D"), 0.0)
    rhythm = np.clip(rng.lognormal(np.log(RHYTHM_MEDIAN_DAYS), RHYTHM_SPREAD, n), 1.2, 25.0)

    # Draw enough gaps per deal to cover its span, then keep the touches inside it.
    draws = np.minimum(np.ceil(span / (0.5 * rhythm)).astype(int) + 2, MAX_TOUCHES)
    deal = np.repeat(np.arange(n), draws)
    gaps = rng.gamma(2.0, rhythm[deal] / 2.0)
    cumulative = pd.Series(gaps).groupby(deal).cumsum().to_numpy()
    fading = (status[deal] == LOST) & (cumulative > FADE_START * span[deal])
    gaps = np.where(fading, gaps * FADE_FACTOR, gaps)
    cumulative = pd.Series(gaps).groupby(deal).cumsum().to_numpy()
    inside = cumulative < span[deal]
    deal, offset = deal[inside], cumulative[inside]
    # The first touch on creation and the last on the stored last activity.
    ending = np.flatnonzero(span > 0)
    at = np.concatenate(
        [created, created[deal] + (offset * 86_400e9).astype("timedelta64[ns]"), last[ending]]
    )
    deal = np.concatenate([np.arange(n), deal, ending])
    offset = np.concatenate([np.zeros(n), offset, span[ending]])
    kind_idx = rng.choice(len(TYPES), size=len(deal), p=TYPE_SHARES)
    kind = np.array(TYPES)[kind_idx]

    # Contacts: a main contact, a secondary one, and for some deals a new main from a point on.
    pool = np.array([s + t for s in CONTACT_SURNAMES for t in CONTACT_TITLES])
    people = rng.choice(len(pool), size=(n, 3))
    share = np.select(
        [status == WON, status == LOST], [CHANGE_SHARE[WON], CHANGE_SHARE[LOST]], CHANGE_SHARE[OPEN]
    )
    changes = rng.random(n) < share
    change_at = rng.uniform(0.3, 0.8, n) * span
    after = changes[deal] & (offset >= change_at[deal])
    main = np.where(after, people[deal, 2], people[deal, 0])
    draw = rng.random(len(deal))
    contact = np.where(draw < 0.9, pool[main], pool[people[deal, 1]])
    contact = np.where((draw > 0.95) | (kind == NOTE), None, contact)

    ids = opportunities["opportunity_id"].astype(str).to_numpy()
    return normalise_activities(
        pd.DataFrame(
            {
                "opportunity_id": ids[deal],
                "occurred_at": at.astype("datetime64[s]").astype("datetime64[ns]"),
                "activity_type": kind,
                "owner": opportunities["owner"].astype(str).to_numpy()[deal],
                "contact": contact,
                "subject": np.array([SUBJECTS[t] for t in TYPES])[kind_idx],
            }
        )
    )


def write_demo_activities(engine, dataset_id: int, opportunities: pd.DataFrame, seed: int) -> int:
    """Generate the demo log and store it as the follow-up log of `dataset_id`."""
    from dealscope.activity.store import write_activities

    return write_activities(engine, dataset_id, generate_demo_activities(opportunities, seed))

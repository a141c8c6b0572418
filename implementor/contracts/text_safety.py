"""What every layer that writes text for Discord must respect: generated text never pings anyone.

The writer strips mention syntax from its drafts, the bot strips it again from anything it posts,
and sends with `AllowedMentions.none()` as well; three walls, because one missed case pings a server.
"""

from __future__ import annotations

import re

_RAW_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>")  # <@123>, <@!123>, <@&123> (role), <#123> (channel)
_MASS_MENTION = re.compile(r"@+\s*(everyone|here)\b", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Remove Discord mention syntax and turn @everyone / @here into plain words."""
    return _MASS_MENTION.sub(r"\1", _RAW_MENTION.sub("", text))

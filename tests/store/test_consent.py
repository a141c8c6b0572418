"""Consent on both backends (`store.learning`): channels enabled and disabled by whom, opt-outs (twice is
once), harvest cursors beyond 32 bits, and every change in the log, newest first."""

from __future__ import annotations

from implementor.store.database import Store

SERVER, CHANNEL, MESSAGE = 1_234_567_890_123_456_789, 1_234_567_890_123_456_790, 1_234_567_890_123_456_791


async def test_consent_is_kept_and_logged(store: Store) -> None:
    learning = store.learning
    await learning.set_channel(SERVER, CHANNEL, True, by=42)
    await learning.set_channel(SERVER, CHANNEL + 1, True, by=42)
    await learning.set_channel(SERVER, CHANNEL + 1, False, by=43)
    enabled = await learning.channels(SERVER, enabled_only=True)
    assert [(c.channel_id, c.changed_by) for c in enabled] == [(CHANNEL, 42)]
    assert [c.enabled for c in await learning.channels()] == [True, False]

    await learning.opt_out(51)
    await learning.opt_out(51)  # twice is once
    await learning.opt_out(52)
    await learning.opt_in(52)
    assert await learning.opted_out() == {51}

    await learning.advance(SERVER, CHANNEL, MESSAGE, {"read": 3, "kept": 2})
    await learning.advance(SERVER, CHANNEL, MESSAGE + 1, {"read": 1, "kept": 1})
    assert await learning.cursors() == {CHANNEL: MESSAGE + 1}
    [channel, _] = await learning.channels(SERVER)
    assert channel.last_message_id == MESSAGE + 1 and channel.counts == {"read": 1, "kept": 1}

    log = await learning.log()
    assert [entry["action"] for entry in log] == ["opt-in", "opt-out", "opt-out", "opt-out", "disable", "enable",
                                                  "enable"]
    assert log[-1]["channel_id"] == CHANNEL and log[-1]["guild_id"] == SERVER

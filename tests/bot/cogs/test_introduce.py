"""/introduce and "@Implementor introduce yourself", with a fake queue and interactions, the real store and limits."""

from __future__ import annotations

from typing import Any

from bot.app import Wiring
from bot.cogs.introduce import Introduce
from bot.limits import Limits
from bot.store import Store


async def test_introduce_hires_once_then_shows_the_same_colleague(wiring: Wiring, jobs: Any, store: Store,
                                                                  limits: Limits, make_interaction: Any,
                                                                  settle: Any) -> None:
    cog = wiring.introduce
    first = make_interaction()
    await cog.introduce.callback(cog, first, new=False)
    assert first.response.deferred
    await settle()
    assert len(jobs.submitted) == 1
    [post] = first.followup.posts
    assert post.kwargs["embed"].title == "Ada Lovelace"
    assert post.kwargs["files"][0].filename == "face.png"
    assert post.kwargs["allowed_mentions"].to_dict() == {"parse": []}  # nobody may be pinged
    status = first.followup.sent[0]
    assert status.content.startswith("⏳ Queued: number 3 in the queue")  # two waiting, plus this one
    assert status.edits[-1]["content"].startswith("✅")

    await limits.give_back(42, "x")  # (no slot to give; cooldown still applies to 42)
    again = make_interaction(user_id=43)
    await cog.introduce.callback(cog, again, new=False)
    assert len(jobs.submitted) == 1  # shown from the store: no new job
    assert again.followup.posts[0].kwargs["embed"].title == "Ada Lovelace"

    hire = make_interaction(user_id=44)
    await cog.introduce.callback(cog, hire, new=True)
    await settle()
    assert len(jobs.submitted) == 2 and len(await store.roster(7)) == 2


async def test_the_text_trigger_introduces(wiring: Wiring, jobs: Any, store: Store, make_channel: Any,
                                           settle: Any) -> None:
    class Message:
        def __init__(self, content: str) -> None:
            self.content, self.channel, self.mentions = content, make_channel(), [bot_user]
            self.author = type("Author", (), {"bot": False, "id": 42})()
            self.guild = type("Guild", (), {"id": 7})()
            self.replies: list[str] = []

        async def reply(self, text: str, **kwargs: Any) -> None:
            self.replies.append(text)

    bot_user = object()  # who the bot is once logged in: the cog is told, it does not ask the client
    cog = Introduce(store=store, runner=wiring.runner, result_view=wiring.buttons.result_view,
                    me=lambda: bot_user)  # type: ignore[arg-type, return-value]
    ignored = Message("hello there")
    await cog.on_message(ignored)  # type: ignore[arg-type]
    assert not jobs.submitted
    message = Message("<@1> please introduce yourself!")
    await cog.on_message(message)  # type: ignore[arg-type]
    await settle()
    assert len(jobs.submitted) == 1
    assert any("embed" in m.kwargs for m in message.channel.sent)

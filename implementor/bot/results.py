"""What a finished job does on Discord: an introduction hires its colleague, and a result becomes a message.

- `hire`: the colleague a finished introduction made joins its server's roster. The reconciler calls it
  once per job, when the result arrives and before the book records it (a crash between the two hires
  again on the next pass, which the roster's unique index on the job turns into the same one hire);
- `ResultRenderer`: a result as the message that answers it, made from the typed result and the roster
  alone, so any process can post it, and rendering it again (for the follow-ups still to send) changes
  nothing. An introduction shows the face and the CV; a project reply is posted in the name, and with
  the face, of the colleague who answered, with the menu of its drafts (`draft_menu.py`). A server
  with nobody on the team hires a colleague with its first request (`ProjectJob.hire`), who answers it:
  the answer says so, and `hire` adds them to the roster, so that no header contradicts the voice. One
  hire at a time: a request made while it is under way is answered as nobody, and its header says so.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import discord

from implementor.bot.render import Rendered, cv_embed, face_file, ready_text, reply_embed
from implementor.bot.views import ResultView
from implementor.contracts.jobs import IntroduceResult, ProjectResult, Result
from implementor.store.database import Store
from implementor.store.jobbook import JobRecord


async def hire(store: Store, record: JobRecord, result: IntroduceResult | ProjectResult) -> None:
    """Hire the colleague of a finished introduction (or of a project job that hired first, its answer's
    author) into the roster of the server it was asked in."""
    profile = result.profile
    assert profile is not None, "an introduction that succeeded, or a job that hired, carries its profile"
    await store.hire(record.guild_id or 0, profile.name, profile.title, profile.seed, profile.cv,
                     base64.b64decode(profile.png_base64), record.user_id, job_id=record.job_id,
                     face_px=profile.face_px)


NOBODY = "no colleague hired yet"  # the header of an answer no hired colleague wrote: it says so plainly
DraftMenu = Callable[[str, ProjectResult], "discord.ui.Item[Any] | None"]  # (job id, result) -> its drafts' menu


class ResultRenderer:
    def __init__(self, store: Store, result_view: ResultView, draft_menu: DraftMenu | None = None) -> None:
        self.store, self.result_view, self.draft_menu = store, result_view, draft_menu

    async def __call__(self, record: JobRecord, result: Result
                       ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        if isinstance(result, IntroduceResult):
            return self._introduction(record, result)
        return await self._reply(record, result)

    def _introduction(self, record: JobRecord, result: IntroduceResult
                      ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        profile = result.profile
        assert profile is not None, "an introduction that succeeded carries its profile"
        rendered = cv_embed(profile.name, profile.title, profile.cv, image_url="attachment://face.png",
                            thumbnail=profile.shown_small)
        rendered.text, rendered.ping = ready_text(record.user_id, "introduce", profile.name), record.user_id
        return rendered, [face_file(profile.png_base64)], self.result_view(record.job_id, "introduce")

    async def _reply(self, record: JobRecord, result: ProjectResult
                     ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        assert result.reply is not None, "a reply that succeeded carries its text"
        if result.profile is not None:  # hired to answer this: the roster has them by this job
            colleague = await self.store.hired_by(record.job_id)
        elif record.colleague_id is not None:
            colleague = await self.store.colleague(record.guild_id or 0, record.colleague_id)
        else:  # asked while the server's first hire was under way: written as nobody, and headed so
            colleague = None
        name, title = (colleague.name, colleague.title) if colleague else ("The Implementor", NOBODY)
        files = [face_file(png=colleague.png, name="face.png")] if colleague else []
        rendered = reply_embed(name, title, result.reply, "attachment://face.png" if colleague else None,
                               result.low_confidence, record.request, record.user_id)
        rendered.text = ready_text(record.user_id, "hired" if result.profile and colleague else "project", name)
        rendered.ping = record.user_id
        view = self.result_view(record.job_id, "project")
        menu = self.draft_menu(record.job_id, result) if self.draft_menu is not None else None
        if menu is not None:
            view.add_item(menu)
        return rendered, files, view

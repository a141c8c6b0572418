"""A finished job as a Discord message, made from the book and the roster alone (so any process can post it).

- an introduction hires its colleague into the server's roster (once per job, however often it is
  posted) and shows the face and the CV;
- a project reply is posted in the name, and with the face, of the colleague who answered.
"""

from __future__ import annotations

import base64
from typing import Any

import discord

from bot.jobbook import JobRecord
from bot.render import Rendered, cv_embed, face_file, reply_embed
from bot.store import Store
from bot.views import ResultView
from contracts.jobs import IntroduceResult, ProjectResult


class ResultRenderer:
    def __init__(self, store: Store, result_view: ResultView) -> None:
        self.store, self.result_view = store, result_view

    async def __call__(self, record: JobRecord, result: dict[str, Any]
                       ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        if record.kind == "introduce":
            return await self._introduction(record, IntroduceResult.model_validate(result))
        return await self._reply(record, ProjectResult.model_validate(result))

    async def _introduction(self, record: JobRecord, result: IntroduceResult
                            ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        profile = result.profile
        assert profile is not None, "an introduction that succeeded carries its profile"
        await self.store.hire(record.guild_id or 0, profile.name, profile.title, profile.seed, profile.cv,
                              base64.b64decode(profile.png_base64), record.user_id, job_id=record.job_id)
        rendered = cv_embed(profile.name, profile.title, profile.cv, image_url="attachment://face.png")
        return rendered, [face_file(profile.png_base64)], self.result_view(record.job_id, "introduce")

    async def _reply(self, record: JobRecord, result: ProjectResult
                     ) -> tuple[Rendered, list[discord.File], discord.ui.View | None]:
        assert result.reply is not None, "a reply that succeeded carries its text"
        colleague = await self.store.colleague(record.guild_id or 0, record.colleague_id)
        name, title = (colleague.name, colleague.title) if colleague else ("The Implementor", "Consultant")
        files = [face_file(png=colleague.png, name="face.png")] if colleague else []
        rendered = reply_embed(name, title, result.reply, "attachment://face.png" if colleague else None,
                               result.low_confidence)
        return rendered, files, self.result_view(record.job_id, "project")

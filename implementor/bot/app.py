"""The bot: a `commands.Bot` subclass with its dependencies injected, built by `create_bot`; and `wire`,
the one place that decides which part gets what.

    ImplementorBot(settings=, jobs=, store=, limits=)   setup_hook calls wire(), then registers:
      Buttons(ButtonActions(store, cancel, regenerate))  the one button class, bound to them
      DraftMenus(MenuActions(store, threshold, show))   the drafts' menu class, bound likewise
      Poster(client, ResultRenderer(store, result_view, menu), status_view)   a job's messages on Discord
      Reconciler(jobs, book, limits, poster, hire, ...)  drives every accepted job to one end (an
                                                          introduction hires when it finishes); runs
                                                          from start-up until the bot closes
      JobRunner(jobs, book, limits, poster, reconciler)  the front door: limits, book, answer, queue
      Introduce(store, runner, me)  Team(store)  Feedback(store)  Project(store, runner)  Settings(store)
      Conversation(store, runner, me)          follow-ups: the Follow up modal's text, replies that mention it
      Learn(store, learning, models_dir, channel, harvest_soon, forget_soon)   /learn: consent, opt-outs, status
      Help(settings, cogs)                     /help: what it does, keeps and runs (the cogs' commands, the cards)

No part holds the bot, and no part looks another up. After each reconciler pass the bot writes a
small health file (`Settings.bot_health_path`): gateway state and reconciler lag, for the stack's
healthcheck (`implementor health bot`). At start-up it registers the slash commands (`command_sync.py`):
with the development server, or globally when the tree changed since the last registration. On
SIGTERM it drains (`drain`): no new requests, the reconciler's pass finished, then it closes.

Any number of bot processes may run on one PostgreSQL store, each serving its own shards (`IMPLEMENTOR_SHARD_COUNT`,
`IMPLEMENTOR_SHARD_IDS`): one shard as a `commands.Bot` with `shard_id`, several as an `AutoShardedBot`
(`ShardedImplementorBot`). The job book's claims share the reconciler's work (`store/jobbook.py`), the command
sync runs under a lease, and shards identify one per `max_concurrency` bucket every 5 s across all processes.
It needs no privileged intents: slash commands come as interactions, and a message that mentions the bot
carries its content anyway (a reply to an answer that does not gets a hint, `conversation.py`). Everything it
sends is sent with `AllowedMentions.none()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from implementor.bot import command_sync
from implementor.bot.capacity import Jobs
from implementor.bot.cogs.conversation import Conversation
from implementor.bot.cogs.feedback import Feedback
from implementor.bot.cogs.help import Help
from implementor.bot.cogs.introduce import Introduce
from implementor.bot.cogs.learn import Learn
from implementor.bot.cogs.project import Project
from implementor.bot.cogs.settings import Settings as ServerSettingsCog
from implementor.bot.cogs.team import Team
from implementor.bot.draft_menu import DraftMenus, MenuActions
from implementor.bot.errors import ImplementorTree
from implementor.bot.limits import Limits
from implementor.bot.metrics import BotMetrics
from implementor.bot.poster import Poster
from implementor.bot.reconciler import PassReport, Reconciler
from implementor.bot.render import NO_PINGS
from implementor.bot.results import ResultRenderer, hire
from implementor.bot.runner import JobRunner
from implementor.bot.views import ButtonActions, Buttons
from implementor.config.settings import Settings
from implementor.contracts.jobs import ProjectResult
from implementor.store.database import Store
from implementor.store.jobbook import JobRecord
from implementor.store.leases import Leases

log = logging.getLogger(__name__)
# A stop has 10 s before compose or Kubernetes sends SIGKILL; the drain leaves the rest for closing.
DRAIN_GRACE_S = 7.0
IDENTIFY_SPACING_S = 5.5  # Discord allows one IDENTIFY per max_concurrency bucket every 5 s

# The bot never joins voice channels; do not warn at every start that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def intents() -> discord.Intents:
    chosen = discord.Intents.none()
    chosen.guilds = True  # slash commands and channels
    chosen.guild_messages = True  # "@Implementor introduce yourself"
    return chosen


@dataclass(frozen=True)
class Wiring:
    """The bot's parts, each built with what it uses."""

    runner: JobRunner
    reconciler: Reconciler
    buttons: Buttons
    menus: DraftMenus
    introduce: Introduce
    team: Team
    project: Project
    feedback: Feedback
    learn: Learn
    help: Help
    settings: ServerSettingsCog
    conversation: Conversation

    @property
    def cogs(self) -> tuple[commands.Cog, ...]:
        return (self.introduce, self.team, self.project, self.conversation, self.feedback, self.learn, self.settings,
                self.help)


def _learn(client: discord.Client, jobs: Jobs, store: Store, settings: Settings) -> Learn:
    """/learn, with the learner's two tasks it asks for by name: a harvest soon, opted-out rows removed soon."""
    async def harvest_soon() -> None:
        await asyncio.to_thread(jobs.request_harvest)

    async def forget_soon() -> None:
        await asyncio.to_thread(jobs.request_forget)

    return Learn(store=store, learning=store.learning, models_dir=settings.models_dir,
                 channel=client.get_partial_messageable, harvest_soon=harvest_soon, forget_soon=forget_soon)


def wire(*, client: discord.Client, jobs: Jobs, store: Store, limits: Limits, settings: Settings,
         on_pass: Callable[[PassReport], None] | None = None, metrics: BotMetrics | None = None) -> Wiring:
    """Build the reconciler, the runner, the buttons and the cogs, and connect them."""
    metrics = metrics or BotMetrics()

    # The buttons and the work they start need each other: the runner puts a Cancel button on every
    # status message, and a Regenerate button runs the Project cog, which queues a job with buttons.
    # These functions close the loop: they reach the runner and the cogs when a member clicks.
    async def cancel(job_id: str) -> bool:
        return await runner.cancel(job_id)

    async def regenerate(interaction: discord.Interaction, record: JobRecord) -> None:
        await project.regenerate(interaction, record)

    async def show(record: JobRecord, result: ProjectResult) -> tuple[list[discord.Embed], discord.ui.View | None]:
        return (rendered := await renderer(record, result))[0].embeds, rendered[2]

    buttons = Buttons(ButtonActions(store=store, cancel=cancel, regenerate=regenerate,
                                    follow_up=lambda *submitted: conversation.follow_up(*submitted)))
    menus = DraftMenus(MenuActions(store=store, threshold=settings.realism_threshold, show=show))
    poster = Poster(client, renderer := ResultRenderer(store, buttons.result_view, menus.menu), buttons.status_view,
                    metrics=metrics, result_view=buttons.result_view)

    def passed(report: PassReport) -> None:
        metrics.passed(report.open_jobs, report.finished_at, report.workers)
        if on_pass is not None:
            on_pass(report)

    reconciler = Reconciler(jobs=jobs, book=store.jobs, limits=limits, poster=poster,
                            hire=functools.partial(hire, store), interval_s=settings.reconcile_interval_s,
                            expire_after_s=settings.result_ttl_s, on_pass=passed,
                            batch_size=settings.batch_max_size)
    runner = JobRunner(jobs=jobs, book=store.jobs, limits=limits, poster=poster, reconciler=reconciler,
                       status_view=buttons.status_view, metrics=metrics, servers=store.servers,
                       refuse_after_s=settings.no_worker_refuse_s)
    project = Project(store=store, runner=runner)
    introduce = Introduce(store=store, runner=runner, me=lambda: client.user)
    conversation = Conversation(store=store, runner=runner, me=lambda: client.user)

    learn = _learn(client, jobs, store, settings)
    # /help lists the commands of every cog, itself included: it reads them once the wiring exists.
    wiring = Wiring(runner, reconciler, buttons, menus, introduce, Team(store=store), project, Feedback(store=store),
                    learn, Help(settings=settings, cogs=lambda: wiring.cogs),
                    ServerSettingsCog(store=store, default_cooldown_s=settings.user_cooldown_s), conversation)
    return wiring


class ImplementorBot(commands.Bot):
    def __init__(self, *, settings: Settings, jobs: Jobs, store: Store, limits: Limits, serve: bool = True,
                 metrics: BotMetrics | None = None, **options: Any) -> None:
        if settings.shard_count > 1:
            shards = settings.shards()
            options.setdefault("shard_count", settings.shard_count)
            options.update({"shard_ids": list(shards)} if len(shards) > 1 else {"shard_id": shards[0]})
        super().__init__(command_prefix=commands.when_mentioned, intents=intents(), tree_cls=ImplementorTree,
                         allowed_mentions=NO_PINGS, help_command=None, **options)
        self.settings, self.jobs, self.store, self.limits = settings, jobs, store, limits
        self.serve = serve  # False: load the commands and nothing else (no start-up sync, no reconciler)
        self.metrics = metrics or BotMetrics()
        self.wiring: Wiring | None = None  # built in setup_hook
        self._reconciling: asyncio.Task[None] | None = None
        self._draining: asyncio.Task[None] | None = None
        self.dynamic_items: tuple[type[discord.ui.DynamicItem[Any]], ...] = ()  # the button classes registered
        self._max_concurrency: int | None = None  # Discord's identify buckets, asked once

    async def setup_hook(self) -> None:
        self.wiring = wire(client=self, jobs=self.jobs, store=self.store, limits=self.limits, settings=self.settings,
                           on_pass=self.report_health, metrics=self.metrics)
        for cog in self.wiring.cogs:
            try:
                await self.add_cog(cog)
            except Exception:
                log.exception("could not load the %s cog", type(cog).__name__)
        self.dynamic_items = (*self.wiring.buttons.dynamic_items, self.wiring.menus.item)
        self.add_dynamic_items(*self.dynamic_items)  # buttons keep working across restarts
        if not self.serve:
            return  # `implementor bot sync`: the commands are all it needs
        try:
            await command_sync.sync_at_start(self.tree, self.store, self.settings.dev_guild_id, self.store.leases)
        except (discord.HTTPException, app_commands.MissingApplicationID) as exc:
            # The commands registered before stay; the hash is not recorded, so the next start tries again.
            log.warning("could not register the slash commands (%s); serving with those Discord has", exc)
        # Start-up is the first reconciliation: jobs accepted before a restart are followed again.
        self._reconciling = asyncio.create_task(self.wiring.reconciler.run(), name="reconciler")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """One IDENTIFY per `max_concurrency` bucket (shard id % max_concurrency) every 5 s, across every bot
        process: a lease per bucket in the store, held 5.5 s by the shard that identifies. A bot of one shard
        identifies at once, as discord.py's own hook lets it."""
        if self.settings.shard_count == 1:
            return await super().before_identify_hook(shard_id, initial=initial)
        if self._max_concurrency is None:
            try:
                self._max_concurrency = int((await self.http.get_bot_gateway())[2]["max_concurrency"])
            except (discord.HTTPException, discord.GatewayNotFound, KeyError, TypeError, ValueError) as exc:
                log.info("Discord did not say its max_concurrency (%s); identifying one shard at a time", exc)
                self._max_concurrency = 1
        bucket = (shard_id or 0) % max(1, self._max_concurrency)
        owner = f"{self.store.claims.owner if self.store.claims else ''}/shard-{shard_id}"
        while not await Leases(self.store.db, owner).take(f"identify.{bucket}", IDENTIFY_SPACING_S):
            await asyncio.sleep(0.25)

    async def on_command_error(self, context: commands.Context[Any], exception: commands.CommandError, /) -> None:
        """A mention is read as a prefix command first: "@Implementor what would that cost?" is no command but a
        follow-up (or an introduction), which the cogs' listeners answer, so not an error to log."""
        if not isinstance(exception, commands.CommandNotFound):
            await super().on_command_error(context, exception)

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))
        if self.wiring is not None:
            self.wiring.reconciler.wake.set()  # after a reconnect, check every open job at once

    def report_health(self, report: PassReport) -> None:
        """The healthcheck's view: the gateway, and when the reconciler last went round."""
        health = {"time": report.finished_at, "gateway_ready": self.is_ready() and not self.is_closed(),
                  "open_jobs": report.open_jobs, "broker_ok": report.broker_ok, "workers": report.workers,
                  "no_worker_since": report.no_worker_since}
        path = self.settings.bot_health_path
        try:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(health), encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            log.debug("could not write the health file %s: %s", path, exc)

    def drain_soon(self) -> None:
        """The SIGTERM handler (`implementor bot` installs it): drain, then close, in the background."""
        if self._draining is None:
            self._draining = asyncio.create_task(self.drain(), name="drain")

    async def drained(self) -> None:
        """Return once a drain under way has closed everything (`start` returns as soon as closing begins)."""
        if self._draining is not None:
            await self._draining

    async def drain(self, grace_s: float = DRAIN_GRACE_S) -> None:
        """Stop taking requests, let the reconciler finish its pass, and close.

        Every job is in the book before the member is answered, so whatever is still open when the bot
        stops is picked up by the next start; the drain only spares a pass cut in half (a result posted
        but not recorded, which the next start must check against the channel)."""
        started = time.monotonic()
        log.info("stopping: no new requests; finishing the reconciler's pass")
        if self.wiring is not None:
            await self.wiring.runner.close_intake()
            self.wiring.reconciler.stop()
        if self._reconciling is not None:
            try:
                left = max(0.1, grace_s - (time.monotonic() - started))
                await asyncio.wait_for(asyncio.shield(self._reconciling), left)
            except TimeoutError:
                log.warning("the reconciler's pass did not end within %.0f s; stopping it", grace_s)
        with contextlib.suppress(Exception):  # the store away: the claims lapse by themselves within a lease
            given = await self.store.jobs.renew(give_up=True)  # for the other processes to take over at once
            log.info("gave up the claims on %d open jobs", given)
        await self.close()
        log.info("stopped in %.1f s", time.monotonic() - started)

    async def close(self) -> None:
        if self._reconciling is not None:
            self._reconciling.cancel()
        await super().close()
        await self.store.close()


class ShardedImplementorBot(ImplementorBot, commands.AutoShardedBot):
    """The bot serving several shards in one process (discord.py runs a gateway connection per shard)."""


def create_bot(settings: Settings, jobs: Jobs, store: Store, limits: Limits, serve: bool = True,
               metrics: BotMetrics | None = None, **options: Any) -> ImplementorBot:
    several = settings.shard_count > 1 and len(settings.shards()) > 1
    return (ShardedImplementorBot if several else ImplementorBot)(
        settings=settings, jobs=jobs, store=store, limits=limits, serve=serve, metrics=metrics, **options)

"""The Poster: a job's messages sent and edited from the book alone, in the channel when no follow-up
webhook can be used, never pinging anyone; and `find_posted`, which tells whether a result went out."""

from __future__ import annotations

import discord
import pytest
from bot_fake_client import BOT_USER, Channels, FakeUser, http_error

from implementor.bot.app import Wiring
from implementor.bot.poster import nonce
from implementor.contracts.jobs import ProjectJob
from implementor.store.database import Store
from implementor.store.jobbook import JobRecord

REQUEST = "Could someone help us plan the spring launch at Acme?"


async def a_record(store: Store) -> JobRecord:
    job = ProjectJob(request=REQUEST)
    await store.jobs.add(job, 7, 500, 42, token="token-1", token_expires=9e12)  # a live token, but no app id
    record = await store.jobs.get(job.job_id)
    assert record is not None
    return record


async def test_without_an_application_id_messages_go_to_the_channel_without_pings(
        wiring: Wiring, store: Store, channels: Channels) -> None:
    poster = wiring.reconciler.poster
    record = await a_record(store)
    message_id = await poster.send_status(record, "⏳ Queued")
    [status] = channels[500].messages
    assert status.id == message_id and status.custom_ids == [f"implementor:cancel:{record.job_id}"]
    assert status.kwargs["allowed_mentions"].to_dict() == {"parse": []}
    # A nonce of its job and part: a create retried (by this process or one taking the job over) is made once.
    assert status.kwargs["nonce"] == nonce(record.job_id, "status") != nonce(record.job_id, "result")
    assert len(status.kwargs["nonce"]) == 25 and nonce(record.job_id, "status") != nonce(f"{record.job_id}x", "status")

    await store.jobs.set_status_message(record.job_id, message_id, "⏳ Queued")
    record = await store.jobs.get(record.job_id)  # type: ignore[assignment]
    assert record is not None
    await poster.edit_status(record, "✍️ Writing", final=False)
    assert status.content == "✍️ Writing" and status.custom_ids  # the Cancel button stays while it runs
    await poster.edit_status(record, "✖️ Cancelled.", final=True)
    assert status.content == "✖️ Cancelled." and status.view is None
    assert all(edit["allowed_mentions"].to_dict() == {"parse": []} for edit in status.edits)
    await poster.delete_status(record)  # a job that answered: its status goes
    await poster.delete_status(record)  # and again after a crash: gone is done
    assert status.deleted


async def test_find_posted_finds_only_this_jobs_result_sent_by_the_bot(wiring: Wiring, store: Store,
                                                                       channels: Channels) -> None:
    poster, buttons = wiring.reconciler.poster, wiring.buttons
    record = await a_record(store)
    other = await a_record(store)
    channel = channels[500]
    assert await poster.find_posted(record) is None
    channel.post("copied", {"view": buttons.result_view(record.job_id, "project")}, author=FakeUser(77))
    channel.post("⏳ Queued", {"view": buttons.status_view(record.job_id)})  # its status, not its result
    channel.post(None, {"view": buttons.result_view(other.job_id, "project")})
    assert await poster.find_posted(record) is None

    result = channel.post(None, {"view": buttons.result_view(record.job_id, "project")}, author=BOT_USER)
    channel.post("later chatter", {}, author=FakeUser(78))
    assert await poster.find_posted(record) == result.id


async def test_a_status_the_bot_may_no_longer_delete_does_not_hold_its_posted_result_open(
        wiring: Wiring, store: Store, channels: Channels, monkeypatch: pytest.MonkeyPatch) -> None:
    poster = wiring.reconciler.poster
    record = await a_record(store)
    message_id = await poster.send_status(record, "⏳ Queued")
    await store.jobs.set_status_message(record.job_id, message_id, "⏳ Queued")
    record = await store.jobs.get(record.job_id)  # type: ignore[assignment]
    [status] = channels[500].messages

    async def forbidden() -> None:
        raise http_error(403, discord.Forbidden)

    monkeypatch.setattr(status, "delete", forbidden)
    await poster.delete_status(record)  # logged, not raised: the result is out, and nothing more can be done
    async def limited() -> None:
        raise http_error(429)

    monkeypatch.setattr(status, "delete", limited)
    with pytest.raises(discord.HTTPException):  # a refusal that may pass is raised, for the next pass to retry
        await poster.delete_status(record)

"""Several bot processes on one job book (`store.jobs.claim`), on SQLite and PostgreSQL: each job claimed by
one process at a time under a lease, renewed while it lives, taken over by another once it lapses (a job
caught mid-post included); unclaimed jobs go to the process serving their server's shard; places in line
are the same for every process; Discord's snowflake ids survive the round trip."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from implementor.config.scale_out import shard_of
from implementor.contracts.jobs import ProjectJob, ProjectResult
from implementor.store.database import Store
from implementor.store.jobbook import Claims
from implementor.store.leases import Leases
from implementor.store.opening import migrate_store

SNOWFLAKE = 1_234_567_890_123_456_789  # a real server id: beyond 32 bits (PostgreSQL's INTEGER)
SHARDS = 3


def guild_on(shard: int) -> int:
    """A server id on `shard` of SHARDS, by Discord's formula."""
    guild = SNOWFLAKE + (shard << 22)
    while shard_of(guild, SHARDS) != shard:
        guild += 1 << 22
    return guild


@pytest_asyncio.fixture
async def processes(store_url: str) -> AsyncIterator[list[Store]]:
    """Three bot processes' stores, one shard each, on one database; leases of 0.5 s for the test's sake."""
    if store_url.startswith("postgresql://"):
        await migrate_store(store_url)
    stores = [await Store(store_url, Claims(f"bot-{i}", lease_s=0.5, shard_count=SHARDS, shard_ids=(i,))).open()
              for i in range(SHARDS)]
    yield stores
    for store in stores:
        await store.close()


async def test_snowflake_ids_survive_the_round_trip(processes: list[Store]) -> None:
    job = ProjectJob(request="Could you help us plan?")
    await processes[0].jobs.add(job, SNOWFLAKE, SNOWFLAKE + 1, SNOWFLAKE + 2, colleague_id=1)
    await processes[0].jobs.set_status_message(job.job_id, SNOWFLAKE + 3, "queued")
    record = await processes[1].jobs.get(job.job_id)
    assert record is not None
    assert (record.guild_id, record.channel_id, record.user_id, record.status_message_id) == (
        SNOWFLAKE, SNOWFLAKE + 1, SNOWFLAKE + 2, SNOWFLAKE + 3)


async def test_the_accepting_process_holds_its_job_and_another_takes_over_when_its_lease_lapses(
        processes: list[Store]) -> None:
    a, b, _ = processes
    job = ProjectJob(request="Could you help us plan?")
    await a.jobs.add(job, guild_on(0), 5, 6)
    assert [r.job_id for r in await a.jobs.claim()] == [job.job_id]
    assert await b.jobs.claim() == []  # held by a, whose lease lives
    await a.jobs.store_result(job.job_id, ProjectResult(job_id=job.job_id, status="ok", reply="Yes."))
    assert await a.jobs.claim_post(job.job_id)  # a dies here, mid-post
    await asyncio.sleep(0.6)
    [taken] = await b.jobs.claim()
    assert (taken.job_id, taken.status, taken.claimed_by) == (job.job_id, "posting", "bot-1")
    assert await a.jobs.claim() == []  # a, back, finds it taken: b finishes what it claimed


async def test_a_live_process_keeps_its_claims_by_renewing_them(processes: list[Store]) -> None:
    a, b, _ = processes
    job = ProjectJob(request="Could you help us plan?")
    await a.jobs.add(job, guild_on(0), 5, 6)
    for _ in range(4):  # 4 passes over a lease and a half: renewed each time
        await asyncio.sleep(0.2)
        assert len(await a.jobs.claim()) == 1 and await b.jobs.claim() == []
    for _ in range(4):  # and between passes (a pass held up by Discord): renewed without claiming more
        await asyncio.sleep(0.2)
        assert await a.jobs.renew() == 1 and await b.jobs.claim() == []
    await asyncio.sleep(0.6)
    assert [r.claimed_by for r in await b.jobs.claim()] == ["bot-1"]  # a stopped renewing: b took it


async def test_a_draining_process_gives_its_claims_up_for_the_others_at_once(processes: list[Store]) -> None:
    a, b, _ = processes
    job = ProjectJob(request="Could you help us plan?")
    await a.jobs.add(job, guild_on(0), 5, 6)
    assert await b.jobs.claim() == [] and await a.jobs.renew(give_up=True) == 1
    assert [r.job_id for r in await b.jobs.claim()] == [job.job_id]  # no lease to wait out


async def test_unclaimed_jobs_go_to_the_process_serving_their_shard(processes: list[Store]) -> None:
    jobs = {}
    for shard in range(SHARDS):
        for guild in (guild_on(shard), guild_on(shard) + (SHARDS << 22)):
            job = ProjectJob(request="Could you help us plan?")
            await processes[0].jobs.add(job, guild, 5, 6)
            jobs[job.job_id] = shard
    dm = ProjectJob(request="Could you help me in a DM?")
    await processes[0].jobs.add(dm, None, 5, 6)
    jobs[dm.job_id] = 0  # direct messages are shard 0's
    await processes[0].db.execute("UPDATE jobs SET claimed_by = NULL, lease_until = NULL")  # as before claims
    await processes[0].db.commit()
    claimed = await asyncio.gather(*(p.jobs.claim() for p in processes))
    for shard, records in enumerate(claimed):
        assert sorted(r.job_id for r in records) == sorted(j for j, s in jobs.items() if s == shard)


async def test_processes_claiming_at_once_never_share_a_job(processes: list[Store]) -> None:
    for _ in range(30):
        await processes[0].jobs.add(ProjectJob(request="Could you help us plan?"), guild_on(0), 5, 6)
    await asyncio.sleep(0.6)  # every lease lapsed: all three may take any of them
    claimed = await asyncio.gather(*(p.jobs.claim() for p in processes))
    ids = [r.job_id for records in claimed for r in records]
    assert len(ids) == len(set(ids)) == 30


async def test_places_in_line_are_the_same_for_every_process(processes: list[Store]) -> None:
    added = []
    for i in range(6):
        job = ProjectJob(request=f"Could you help us, number {i}?")
        assert await processes[i % SHARDS].jobs.add(job, guild_on(i % SHARDS), 5, 6) == i + 1
        added.append(job.job_id)
    for store in processes:
        assert [await store.jobs.position(j) for j in added] == [1, 2, 3, 4, 5, 6]
        assert [r.job_id for r in await store.jobs.open_jobs()] == added
    await processes[1].jobs.end(added[0], "cancelled")
    assert await processes[2].jobs.position(added[3]) == 3


async def test_a_named_lease_is_held_by_one_process_until_given_back_or_run_out(processes: list[Store]) -> None:
    leases = [Leases(p.db, f"bot-{i}") for i, p in enumerate(processes)]
    taken = await asyncio.gather(*(lease.take("commands", 0.5) for lease in leases))
    assert sorted(taken) == [False, False, True]
    holder = leases[taken.index(True)]
    assert await leases[0].holder("commands") == holder.owner
    assert await holder.take("commands", 0.5)  # renewed by its holder
    await holder.give_back("commands")
    assert await leases[0].holder("commands") is None
    assert await leases[1].take("commands", 0.3) and not await leases[2].take("commands", 0.3)
    await asyncio.sleep(0.4)  # its holder died: the lease ran out
    assert await leases[2].take("commands", 0.3)

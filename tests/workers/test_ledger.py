"""The job ledger's contract, on fakeredis and in memory."""

from __future__ import annotations

import fakeredis
import pytest

from implementor.workers.ledger import DURATIONS_KEPT, Ledger, MemoryLedger, RedisLedger


@pytest.fixture(params=["redis", "memory"])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    if request.param == "redis":
        return RedisLedger(fakeredis.FakeRedis(decode_responses=True), ttl_s=60)
    return MemoryLedger()


def test_attempts_are_counted(ledger: Ledger) -> None:
    assert [ledger.begin("job-a"), ledger.begin("job-a"), ledger.begin("job-b")] == [1, 2, 1]


def test_the_first_recorded_result_wins(ledger: Ledger) -> None:
    assert ledger.result("job-a") is None
    assert ledger.record("job-a", '{"n": 1}') == '{"n": 1}'
    assert ledger.record("job-a", '{"n": 2}') == '{"n": 1}'
    assert ledger.result("job-a") == '{"n": 1}'


def test_redis_entries_expire() -> None:
    client = fakeredis.FakeRedis(decode_responses=True)
    ledger = RedisLedger(client, ttl_s=60)
    ledger.begin("job-a")
    ledger.record("job-a", "{}")
    assert 0 < client.ttl("implementor:attempts:job-a") <= 60
    assert 0 < client.ttl("implementor:result:job-a") <= 60


def test_redis_state_survives_a_new_client() -> None:
    """What a restarted bot or worker sees: the state lives in Redis, not in the process."""
    server = fakeredis.FakeServer()
    RedisLedger(fakeredis.FakeRedis(server=server, decode_responses=True), 60).record("job-a", '{"ok": 1}')
    again = RedisLedger(fakeredis.FakeRedis(server=server, decode_responses=True), 60)
    assert again.result("job-a") == '{"ok": 1}' and again.begin("job-a") == 1


def test_admission_counts_attempts_until_a_result_is_recorded(ledger: Ledger) -> None:
    assert ledger.admit("job-a") == (None, 1)
    assert ledger.admit("job-a") == (None, 2)
    ledger.record("job-a", '{"n": 1}')
    assert ledger.admit("job-a") == ('{"n": 1}', 2)  # known: not run again, not counted


def test_a_withdrawal_wins_only_before_admission(ledger: Ledger) -> None:
    assert ledger.withdraw("job-a", '{"status": "cancelled"}')
    assert ledger.admit("job-a") == ('{"status": "cancelled"}', 0)  # the worker sees it withdrawn: never run
    assert ledger.admit("job-b") == (None, 1)
    assert not ledger.withdraw("job-b", '{"status": "cancelled"}')  # already running: too late
    assert ledger.result("job-b") is None
    ledger.record("job-c", '{"n": 1}')
    assert not ledger.withdraw("job-c", '{"status": "cancelled"}')  # already done


def test_the_latest_durations_are_kept_newest_first(ledger: Ledger) -> None:
    assert ledger.durations("project") == []
    ledger.add_durations("project", [1.0, 2.0])
    ledger.add_durations("project", [])  # a batch with nothing "ok": nothing to add
    ledger.add_durations("introduce", [9.0])
    assert ledger.durations("project") == [2.0, 1.0] and ledger.durations("introduce") == [9.0]
    ledger.add_durations("project", [float(s) for s in range(3, 3 + DURATIONS_KEPT)])
    kept = ledger.durations("project")
    assert len(kept) == DURATIONS_KEPT and kept[0] == 2.0 + DURATIONS_KEPT and 1.0 not in kept

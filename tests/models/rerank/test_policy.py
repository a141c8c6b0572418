"""The reranking policy, as a pure function of the scores."""

from __future__ import annotations

import pytest

from implementor.contracts.errors import InputError
from implementor.models.rerank.policy import RerankPolicy, choose, near_duplicates

POLICY = RerankPolicy(threshold=0.9, min_chars=10, max_chars=200)
A = "I have planned many launches and would start with the budget review."
B = "Happy to help: I ran the same audit at Acme last year and can start Monday."
C = "Count me in. I know the supplier and can draft the tender by Friday."


def test_realistic_drafts_are_ranked_by_quality() -> None:
    ranked = choose([A, B, C], p_real=[0.95, 0.99, 0.92], quality=[3.0, 2.0, 4.5], policy=POLICY)
    assert ranked.index == 2 and ranked.text == C and not ranked.low_confidence
    assert ranked.candidates[2].chosen and ranked.candidates[2].reason.startswith("chosen")
    assert "lower expected quality than #3" in ranked.candidates[0].reason


def test_the_threshold_keeps_unrealistic_drafts_out() -> None:
    ranked = choose([A, B], p_real=[0.95, 0.5], quality=[1.0, 5.0], policy=POLICY)
    assert ranked.index == 0
    assert ranked.candidates[1].reason == "P(real) 0.50 < 0.90"
    assert choose([A, B], [0.95, 0.5], [1.0, 5.0], RerankPolicy(threshold=0.4, min_chars=10)).index == 1


def test_when_none_pass_the_most_realistic_is_chosen_with_low_confidence() -> None:
    ranked = choose([A, B, C], p_real=[0.3, 0.6, 0.5], quality=[5.0, 1.0, 4.0], policy=POLICY)
    assert ranked.index == 1 and ranked.low_confidence
    assert "low confidence" in ranked.candidates[1].reason


def test_duplicates_count_once() -> None:
    long = f"{A} {B} {C}"  # about the length of a real reply
    near_copy = long.replace("would start", "would begin")  # one word changed
    assert near_duplicates([long, A, near_copy, long], 0.8) == {2: 0, 3: 0}
    ranked = choose([long, near_copy, B], p_real=[0.95, 0.99, 0.91], quality=[3.0, 5.0, 2.0],
                    policy=RerankPolicy(threshold=0.9, min_chars=10, max_chars=1000))
    assert ranked.index == 0  # the copy's higher score does not count twice
    assert ranked.candidates[1].reason == "duplicate of #1"
    assert choose([A, A], [0.95, 0.95], [3.0, 3.0], POLICY).candidates[1].reason == "duplicate of #1"


def test_ties_go_to_the_more_realistic_then_the_earlier() -> None:
    assert choose([A, B, C], [0.91, 0.97, 0.97], [4.0, 4.0, 4.0], POLICY).index == 1
    assert choose([A, B], [0.95, 0.95], [4.0, 4.0], POLICY).index == 0


def test_insane_lengths_are_out() -> None:
    ranked = choose(["Hi.", A, "x" * 500], [0.99, 0.91, 0.99], [5.0, 1.0, 5.0], POLICY)
    assert ranked.index == 1
    assert ranked.candidates[0].reason.startswith("too short")
    assert ranked.candidates[2].reason.startswith("too long")


WHOLE_CV = ("## Profile\nI weld ships.\n\n## Skills\n- weld\n- cut\n- plan\n\n## Experience\n"
            "- Welder, Acme (2019-present). Welded hulls.\n\n## Education\n- NVQ in Welding (2018)")
BROKEN_CV = "## Profile\nI weld ships and I weld them well.\n\n## Skills\n- weld\n- weld better"


def test_a_cv_missing_a_section_is_out_unless_nothing_else_is_left() -> None:
    ranked = choose([BROKEN_CV, WHOLE_CV], [0.99, 0.95], [5.0, 1.0], POLICY, task="cv")
    assert ranked.index == 1 and ranked.candidates[0].reason.startswith("not a whole CV")
    assert choose([BROKEN_CV, WHOLE_CV], [0.99, 0.95], [5.0, 1.0], POLICY).index == 0  # replies are not CVs
    alone = choose([BROKEN_CV], [0.99], [5.0], POLICY, task="cv")  # something is still posted, flagged
    assert alone.index == 0 and alone.low_confidence


def test_the_table_lists_every_candidate() -> None:
    table = choose([A, B], [0.95, 0.99], [3.0, 4.0], POLICY).table()
    assert table.count("\n") == 3 and table.splitlines()[2].startswith("* 2")  # the chosen draft first


def test_no_drafts_is_an_input_error() -> None:
    with pytest.raises(InputError):
        choose([], [], [], POLICY)


EXPLORING = RerankPolicy(threshold=0.9, min_chars=10, max_chars=200, explore=0.1)
D = "Not me, sorry, I am on leave then."
CV = ("## Profile\nI {0} {1} for {2} and know what they bring in.\n\n## Skills\n- {0}\n- {1}\n- {2} tools\n\n"
      "## Experience\n- Lead, {2} (2019-2022). {0} {1} every quarter.\n\n## Education\n- BA, University of {3} (2015)")


def test_without_exploration_the_top_draft_is_posted_with_propensity_one() -> None:
    ranked = choose([A, B, C], [0.95, 0.99, 0.92], [3.0, 2.0, 4.5], POLICY, "reply", rng=lambda: 0.0)
    assert ranked.index == 2 and not ranked.explored
    assert [c.propensity for c in ranked.candidates] == [0.0, 0.0, 1.0]


def test_exploration_posts_another_realistic_draft_and_logs_every_propensity() -> None:
    draws = iter([0.05, 0.0])  # explore (0.05 < 0.1), then the first of the other realistic drafts
    ranked = choose([A, B, C, D], [0.95, 0.99, 0.92, 0.3], [3.0, 2.0, 4.5, 5.0], EXPLORING, "reply",
                    rng=draws.__next__)
    assert ranked.explored and ranked.index == 0 and ranked.text == A
    assert ranked.candidates[0].reason.startswith("chosen to explore") and ranked.candidates[0].chosen
    assert "not posted this time (exploring)" in ranked.candidates[2].reason
    # 0.9 for the top one, 0.1 shared by the two other realistic ones, none for the unrealistic one
    assert [c.propensity for c in ranked.candidates] == [0.05, 0.05, 0.9, 0.0]

    kept = choose([A, B, C, D], [0.95, 0.99, 0.92, 0.3], [3.0, 2.0, 4.5, 5.0], EXPLORING, "reply", rng=lambda: 0.5)
    assert not kept.explored and kept.index == 2


def test_about_the_chosen_share_of_replies_explores_and_cvs_never_do() -> None:
    import random

    rng = random.Random(0).random
    explored = sum(choose([A, B, C], [0.95, 0.99, 0.92], [3.0, 2.0, 4.5], EXPLORING, "reply", rng=rng).explored
                   for _ in range(2000))
    assert 0.08 <= explored / 2000 <= 0.12
    words = [("counts", "budgets", "Acme", "Leeds"), ("writes", "tenders", "Initech", "York"),
             ("sells", "campaigns", "Globex", "Bath")]
    cvs = [CV.format(*w) for w in words]
    cv = choose(cvs, [0.95, 0.99, 0.92], [3.0, 2.0, 4.5], RerankPolicy(explore=0.1), "cv", rng=lambda: 0.0)
    assert not cv.explored and cv.index == 2 and cv.candidates[2].propensity == 1.0
    alone = choose([A, D], [0.95, 0.3], [3.0, 5.0], EXPLORING, "reply", rng=lambda: 0.0)  # nothing else to explore
    assert not alone.explored and alone.candidates[0].propensity == 1.0

"""ConversationPool: threads reused for their drawn number of turns, think time, transcripts."""

from __future__ import annotations

import random

from sample_backend.loadgen.conversations import ConversationPool


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_conversation_continues_after_think_time_with_its_transcript() -> None:
    clock = Clock()
    pool = ConversationPool(turns=(3, 3), think_seconds=2.0, clock=clock)
    first = pool.take("http://a", "user")
    body = first.input("hi")
    assert [m["role"] for m in body["messages"]] == ["user"]
    pool.finish(first, "hi", "hello")

    # Still thinking: the next run starts another conversation.
    other = pool.take("http://a", "user")
    assert other is not first and pool.started == 2
    clock.now += 2.0
    again = pool.take("http://a", "user")
    assert again is first
    body = again.input("and now?")
    assert body["threadId"] == first.thread_id
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "hi"),
        ("assistant", "hello"),
        ("user", "and now?"),
    ]
    assert len({m["id"] for m in body["messages"]}) == 3


def test_conversations_are_per_target_and_role() -> None:
    pool = ConversationPool(turns=(2, 2), think_seconds=0.0)
    conv = pool.take("http://a", "user")
    pool.finish(conv, "hi", "hello")
    assert pool.take("http://b", "user") is not conv
    assert pool.take("http://a", "admin") is not conv
    assert pool.take("http://a", "user") is conv


def test_a_conversation_ends_after_its_turns() -> None:
    pool = ConversationPool(turns=(2, 2), think_seconds=0.0)
    conv = pool.take("t", "user")
    pool.finish(conv, "one", "1")
    assert pool.take("t", "user") is conv
    pool.finish(conv, "two", "2")
    assert pool.idle() == 0
    assert pool.take("t", "user") is not conv


def test_a_failed_turn_keeps_the_question_without_a_reply() -> None:
    pool = ConversationPool(turns=(3, 3), think_seconds=0.0)
    conv = pool.take("t", "user")
    pool.finish(conv, "one", None)
    assert pool.take("t", "user") is conv
    assert [m["role"] for m in conv.input("two")["messages"]] == ["user", "user"]


def test_turns_are_drawn_per_conversation_within_the_range() -> None:
    pool = ConversationPool(turns=(2, 6), think_seconds=0.0, rng=random.Random(7))
    drawn = {pool.take(f"t{i}", "user").turns_left for i in range(200)}
    assert drawn == {2, 3, 4, 5, 6}

"""Multi-turn chat conversations, as the steady traffic's users hold them.

A real chat user stays in one thread for a few turns: each request carries the same
``threadId`` and the whole transcript so far (AG-UI clients send the full message
history), and the next message comes after the user has read the answer. A
:class:`Conversation` is one such thread, pinned to one backend instance (the thread
lives in that instance's store) and one role (one user's token), with a random number
of turns. :class:`ConversationPool` hands out the conversation a new steady run
continues: the one that has waited longest since its last answer and has finished
thinking, else a new one.

Usage::

    pool = ConversationPool(turns=(2, 6), think_seconds=2.0)
    conv = pool.take(target, "user")          # busy until finish()
    body = conv.input("What's the weather in Oslo?")
    pool.finish(conv, "What's the weather in Oslo?", answer="Sunny.")   # or answer=None
"""

from __future__ import annotations

import collections
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ag_ui.core import AssistantMessage, Message, RunAgentInput, UserMessage

__all__ = ["Conversation", "ConversationPool", "build_input"]

# Idle conversations kept per (target, role); only reached if the rate drops sharply,
# and then the oldest are the ones a user would have abandoned.
MAX_IDLE = 1_000


def build_input(
    text: str, thread_id: str | None = None, history: list[Message] | None = None
) -> dict[str, Any]:
    """A valid AG-UI RunAgentInput (camelCase JSON): ``history`` then the new user message.

    Without ``thread_id`` the run starts a new thread.
    """
    run = RunAgentInput(
        thread_id=thread_id or str(uuid.uuid4()),
        run_id=str(uuid.uuid4()),
        state={},
        messages=[*(history or []), UserMessage(id=str(uuid.uuid4()), role="user", content=text)],
        tools=[],
        context=[],
        forwarded_props={},
    )
    body: dict[str, Any] = run.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


@dataclass
class Conversation:
    """One chat thread: its instance, its user's role, the transcript and turns left."""

    target: str
    role: str
    turns_left: int
    thread_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    messages: list[Message] = field(default_factory=list)
    turns_done: int = 0
    ready_at: float = 0.0

    def input(self, text: str) -> dict[str, Any]:
        """The RunAgentInput of the next turn: same thread, the transcript so far, ``text``."""
        return build_input(text, self.thread_id, self.messages)


class ConversationPool:
    """Idle conversations per (target, role), oldest first; new ones on demand."""

    def __init__(
        self,
        *,
        turns: tuple[int, int],
        think_seconds: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._turns = turns
        self._think = think_seconds
        self._rng = rng or random.Random()
        self._clock = clock
        self._idle: dict[tuple[str, str], collections.deque[Conversation]] = {}
        self.started = 0

    def take(self, target: str, role: str) -> Conversation:
        """The conversation the next turn belongs to (removed from the idle set)."""
        idle = self._idle.get((target, role))
        if idle and idle[0].ready_at <= self._clock():
            return idle.popleft()
        self.started += 1
        return Conversation(target, role, turns_left=self._rng.randint(*self._turns))

    def finish(self, conv: Conversation, text: str, answer: str | None) -> None:
        """Record a turn; the conversation goes back to the idle set unless it is over.

        A failed turn (``answer`` None) stays in the transcript as the user's message
        without a reply, as a chat UI shows it; the user carries on in the same thread.
        """
        conv.messages.append(UserMessage(id=str(uuid.uuid4()), role="user", content=text))
        if answer:
            conv.messages.append(AssistantMessage(id=str(uuid.uuid4()), role="assistant", content=answer))
        conv.turns_done += 1
        conv.turns_left -= 1
        if conv.turns_left <= 0:
            return
        conv.ready_at = self._clock() + self._think
        idle = self._idle.setdefault((conv.target, conv.role), collections.deque())
        idle.append(conv)
        while len(idle) > MAX_IDLE:
            idle.popleft()

    def idle(self) -> int:
        """Conversations waiting for their next turn."""
        return sum(len(q) for q in self._idle.values())

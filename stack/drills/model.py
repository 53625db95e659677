"""The scenario model: what one drill injects, which alerts must fire (and reach which
receiver), which must be inhibited or stay silent, its time bound and the shared resources
it touches. One YAML file in ``stack/scenarios/`` is one :class:`Scenario`.

Example (``stack/scenarios/backend-5xx.yaml``)::

    description: Every /ag-ui/events request of backend-1 answers 500.
    resources: [backend-1/http, slo/availability]
    inject:
      - fault: http_5xx
        instance: backend-1
        params: {rate: 1.0}
    expect:
      - alert: BackendHighErrorRate
        severity: critical
        labels: {instance: "backend-1:8000"}
        receivers: [pagerduty]
    inhibited:
      - alert: BackendElevatedErrorRate
        labels: {instance: "backend-1:8000"}

Receivers are spelled as the notification receiver records them: ``pagerduty``,
``slack/<channel>``, ``webhook/<name>``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "BACKENDS",
    "AbsentAlert",
    "ExpectedAlert",
    "FaultStep",
    "InhibitedAlert",
    "NotDrillable",
    "NotDrillableList",
    "Scenario",
    "SideEffect",
    "StackStep",
]

BACKENDS = ("backend-1", "backend-2")
# Components a stack step may act on (the native stack's process names).
COMPONENTS = ("backend-1", "backend-2", "blackbox", "alertmanager", "prometheus", "upstreams", "loadgen")
_RECEIVER = re.compile(r"^(pagerduty|slack/[a-z0-9-]+|webhook/[a-z0-9-]+)$")
_ALERT = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_RESOURCE = re.compile(r"^~?[a-z0-9-]+(/[a-z0-9_*-]+)*$")


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class FaultStep(_Strict):
    """Switch on one fault or traffic mode through the backend fault API."""

    fault: str
    instance: Literal["backend-1", "backend-2", "all"] = "backend-1"
    params: dict[str, float | int | str] = Field(default_factory=dict)

    @property
    def instances(self) -> tuple[str, ...]:
        return BACKENDS if self.instance == "all" else (self.instance,)


class StackStep(_Strict):
    """Act on a component of the stack itself.

    - ``kill`` (SIGKILL, a crash) / ``stop`` (graceful) a component; undone by starting it again;
    - ``restart`` a component keeping its data (nothing to undo);
    - ``fail_receiver``: the notification receiver answers ``status`` for ``seconds``;
    - ``load_rules``: add a rule group to the running Prometheus (``group``) and reload;
    - ``reset_token_budget``: start a new LLM token budget day on backend ``component``
      (what midnight UTC does in production).

    ``when`` says at which point of the drill the step runs: at injection, once every
    expected alert is pending in Prometheus, once every one is firing there, once every one
    was notified at each of its receivers, or when the drill clears (after its faults are
    switched off). After a ``notified`` step the fault stays on until every expected alert is
    back in Alertmanager and one more group cycle (``group_wait`` + ``group_interval``) has
    passed, so a notification the step wrongly caused would be seen. ``undo`` says when it
    is reverted: at clear time, as soon as every expected alert fires in Prometheus (for
    faults that would otherwise block the notification path), or never.
    """

    action: Literal["kill", "stop", "restart", "fail_receiver", "load_rules", "reset_token_budget"]
    component: str | None = None
    when: Literal["inject", "pending", "firing", "notified", "clear"] = "inject"
    undo: Literal["clear", "firing", "never"] = "clear"
    # With undo "firing": wait this long after every expected alert fires (so Alertmanager
    # has tried, and failed, to notify before the step is reverted). At most 8 s: Alertmanager
    # retries one flush for 10 s, and the floor counts retries within that flush only.
    undo_after_seconds: float = Field(default=0.0, ge=0, le=8)
    # With when "clear": wait this long after the faults are switched off (requests that
    # started under the fault finish first and report what they saw).
    after_clear_seconds: float = Field(default=0.0, ge=0, le=30)
    status: int = Field(default=503, ge=400, le=599)
    seconds: float = Field(default=600.0, gt=0)
    group: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> StackStep:
        if self.action in ("kill", "stop", "restart"):
            if self.component not in COMPONENTS:
                raise ValueError(f"component must be one of {', '.join(COMPONENTS)} for {self.action}")
        elif self.action == "reset_token_budget":
            if self.component not in BACKENDS:
                raise ValueError(f"component must be one of {', '.join(BACKENDS)} for {self.action}")
            if self.undo != "never":
                raise ValueError("a new budget day cannot be undone: set undo: never")
        elif self.component is not None:
            raise ValueError(f"{self.action} takes no component")
        if self.action == "load_rules":
            if not self.group or not isinstance(self.group.get("name"), str) or not self.group.get("rules"):
                raise ValueError("load_rules needs group: {name: ..., rules: [...]}")
        elif self.group is not None:
            raise ValueError(f"{self.action} takes no group")
        if self.action == "restart" and self.undo != "never":
            # A restart leaves nothing to revert; say so rather than pretend.
            raise ValueError("a restart cannot be undone: set undo: never")
        if self.after_clear_seconds and self.when != "clear":
            raise ValueError("after_clear_seconds is for steps run when the drill clears (when: clear)")
        if self.when == "clear" and self.undo != "never":
            raise ValueError(
                "a step run when the drill clears has nothing after it to undo it: set undo: never"
            )
        return self


class _AlertRef(_Strict):
    alert: str
    # Only the labels that pick the alert out (instance, tool, agent, job, ...).
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("alert")
    @classmethod
    def _camel(cls, value: str) -> str:
        if not _ALERT.match(value):
            raise ValueError(f"{value!r} is not a CamelCase alert name")
        return value

    def matches(self, labels: dict[str, str]) -> bool:
        """True when ``labels`` (a live alert's) are this alert with these key labels."""
        return labels.get("alertname") == self.alert and all(
            labels.get(k) == v for k, v in self.labels.items()
        )

    def describe(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return f"{self.alert}{{{inner}}}" if inner else self.alert


class ExpectedAlert(_AlertRef):
    """An alert that must go pending, fire, reach Alertmanager and be notified at every
    listed receiver (with its description and runbook link), then resolve."""

    severity: Literal["critical", "warning", "info"]
    receivers: list[str] = Field(min_length=1)
    # Receivers that do not send resolutions (the heartbeat webhook) are listed here too.
    resolves: bool = True
    # "Exactly once" checks (Alertmanager restarted while the alert fires).
    max_notifications: int | None = Field(default=None, ge=1)
    # Seconds the fault itself needs before any scrape can show it, added to the alert's floor: a
    # slowed request reaches the latency histogram only when it ends; a ratio over a (compressed)
    # window passes a burn threshold only once enough of the window holds bad events. Say why in a
    # comment beside it.
    signal_seconds: float = Field(default=0.0, ge=0)

    @field_validator("receivers")
    @classmethod
    def _receivers(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not _RECEIVER.match(r)]
        if bad:
            raise ValueError(f"{bad}: receivers are pagerduty, slack/<channel> or webhook/<name>")
        return value


class InhibitedAlert(_AlertRef):
    """An alert Alertmanager must suppress (inhibition): never notified. With
    ``must_fire`` it must also really fire in Prometheus, so the drill proves the
    inhibition suppressed something."""

    must_fire: bool = True


class AbsentAlert(_AlertRef):
    """An alert that must never be pending or firing during the drill."""


class SideEffect(_AlertRef):
    """An alert the fault also raises, as it would in production. Not checked; listed so
    the scheduler runs this drill after any drill that expects a notification from the
    same Alertmanager group (a live group would delay that notification)."""

    reason: str = Field(min_length=1)


class Scenario(_Strict):
    """One drill. ``name`` is the file name without ``.yaml``."""

    name: str = ""
    description: str = Field(min_length=1)
    inject: list[FaultStep] = Field(default_factory=list)
    stack: list[StackStep] = Field(default_factory=list)
    expect: list[ExpectedAlert] = Field(min_length=1)
    inhibited: list[InhibitedAlert] = Field(default_factory=list)
    must_not_fire: list[AbsentAlert] = Field(default_factory=list)
    side_effects: list[SideEffect] = Field(default_factory=list)
    # "firing": the expected alerts fire before the drill starts (Watchdog); nothing is
    # injected and the drill proves the next notification arrives.
    baseline: Literal["clear", "firing"] = "clear"
    # The time bound: every notification within its floor plus this many real seconds
    # (the fault's own ramp-up, e.g. slow requests completing, is not compressed).
    margin_seconds: float = Field(default=10.0, gt=0)
    # Shared things the drill disturbs; drills whose resources overlap never run at once.
    # "backend-1" overlaps "backend-1/http". A leading "~" only relies on the resource:
    # any number of "~throughput" drills run together, never beside a "throughput" one.
    # "exclusive" drills run alone.
    resources: list[str] = Field(min_length=1)
    exclusive: bool = False
    # False: the alert follows state (a process, a probe, a gauge, the stack itself), not request
    # rates, so the drill proves the same on a stack without load; the e2e tier runs such drills on
    # a second, quiet stack beside the drills that need traffic.
    traffic: bool = True
    # A drill that cannot pass reliably because of a known defect elsewhere (a rule that
    # cannot hold at the compressed scale, ...): it still runs and reports, and its failure is
    # expected, with this reason printed.
    known_issue: str | None = None
    # A drill whose fault needs CPU time of its own (cpu_burn) can only be judged on a machine
    # with this many idle cores when it starts: on a busier one it is refused, with the figure,
    # instead of failing (or passing) for a reason that is not the alert's.
    needs_idle_cores: float | None = Field(default=None, gt=0)

    @field_validator("resources")
    @classmethod
    def _resources(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if not _RESOURCE.match(r)]
        if bad:
            raise ValueError(f"{bad}: resources are lowercase paths such as backend-1/http")
        return value

    @model_validator(mode="after")
    def _something_happens(self) -> Scenario:
        if self.baseline == "clear" and not (self.inject or self.stack):
            raise ValueError("inject or stack must say what the drill does (or set baseline: firing)")
        if self.baseline == "firing" and (self.inject or self.stack):
            raise ValueError("baseline: firing drills inject nothing")
        return self

    def conflicts_with(self, other: Scenario) -> bool:
        """True when the two drills must not run at the same time."""
        if self.exclusive or other.exclusive:
            return True
        return any(_overlap(a, b) for a in self.resources for b in other.resources)


def _overlap(a: str, b: str) -> bool:
    if a.startswith("~") and b.startswith("~"):
        return False
    a, b = a.lstrip("~"), b.lstrip("~")
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


class NotDrillable(_Strict):
    """An alert no live drill can prove, and why (it is proven offline by promtool)."""

    alert: str
    reason: str = Field(min_length=20)


class NotDrillableList(_Strict):
    not_drillable: list[NotDrillable]

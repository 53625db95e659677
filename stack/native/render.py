"""Render the provisioning files for where they run: the native stack or compose.

The files in ``provisioning/`` are written for compose (``http://receiver:8300``,
targets ``backend-1:8000``) and stay the source of truth. One code path renders them for
both ways of running; a :class:`Target` says what differs:

- natively (:func:`native_target`), every compose ``host:port`` becomes
  ``127.0.0.1:<port>`` (ports from :class:`StackSettings`), scrape targets of compose-only
  components (Grafana, Loki, Tempo, Alloy) are dropped, and each kept job gets relabelling
  that turns the ``instance`` label back into the compose address, so alerts carry the same
  labels in both ways of running (``backend-1:8000``);
- for compose (:func:`compose_target`), addresses stay as written; ``native_jobs`` drops
  the same compose-only targets, for the light CI variant that does not run them.

In both, Alertmanager receiver URLs and the routing key take the ``ALERTMANAGER_*``
overrides of :data:`stack.alerting.URL_OVERRIDES`, and the templates are copied next to the
rendered ``alertmanager.yml`` so its relative template paths work in a container too. With a
:class:`Drill`: 1 s scrape and evaluation intervals, rules time-compressed
(:mod:`stack.timecompress`), Alertmanager group timers divided by the same factor with a
1 s floor.

Rule files are copied byte for byte when not compressed, so their comments survive.

Usage::

    render_all(settings)                                        # the native runner
    render_tree(prov, out, compose_target(), Drill(60), env)    # `python -m stack render`
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stack.alerting import override_urls
from stack.native.settings import StackSettings
from stack.timecompress import Compression, parse_duration

__all__ = [
    "COMPOSE_ADDRESSES",
    "COMPOSE_ONLY_HOSTS",
    "DRILL_FLAGS",
    "Drill",
    "RenderError",
    "Rendered",
    "Target",
    "address_map",
    "compose_target",
    "drill_of",
    "native_target",
    "prometheus_drill_flags",
    "render_alertmanager",
    "render_alertmanager_dir",
    "render_all",
    "render_prometheus",
    "render_prometheus_dir",
    "render_tree",
]

# The port each service listens on inside compose.
COMPOSE_ADDRESSES = {
    "backend-1": 8000,
    "backend-2": 8000,
    "upstreams": 8100,
    "loadgen": 8200,
    "receiver": 8300,
    "prometheus": 9090,
    "alertmanager": 9093,
    "blackbox": 9115,
}
# Components only compose runs; the native stack (and the light CI compose variant) drop
# their scrape targets, else their "target down" alert would fire.
COMPOSE_ONLY_HOSTS = frozenset({"grafana", "loki", "tempo", "alloy", "collector", "otel-collector"})
_HOST = re.compile(r"^(?:[a-z]+://)?([A-Za-z0-9_.-]+)(?::\d+)?(?:/.*)?$")


class RenderError(ValueError):
    """A provisioning file that cannot be rendered; the message names file and key."""


@dataclass(frozen=True)
class Target:
    """Where the rendered files run.

    ``addresses`` maps a compose ``host:port`` to the address it becomes (empty: compose
    keeps its own); targets on ``absent_hosts`` are dropped, and a job left with none goes.
    """

    name: str
    addresses: Mapping[str, str] = field(default_factory=dict)
    absent_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Drill:
    """Drill mode: ``interval_seconds`` scrape/evaluation intervals, timers divided by ``factor``."""

    factor: float
    interval_seconds: int = 1

    @property
    def interval(self) -> str:
        return f"{self.interval_seconds}s"

    def rule_compression(self) -> Compression:
        # No range shorter than four scrapes (rate() needs samples), no step below one.
        return Compression(
            self.factor, min_range_ms=4000 * self.interval_seconds, min_step_ms=1000 * self.interval_seconds
        )

    def describe(self) -> str:
        return f"drill mode: {self.interval} intervals, factor {self.factor:g}"


@dataclass(frozen=True)
class Rendered:
    """The files one render wrote (paths under its output directory)."""

    prometheus_config: Path
    alertmanager_config: Path
    blackbox_config: Path
    rule_files: list[Path]
    templates: list[Path] = field(default_factory=list)


def address_map(settings: StackSettings) -> dict[str, str]:
    """``{"backend-1:8000": "127.0.0.1:8001", ...}`` for the configured ports."""
    native = {
        "backend-1": settings.backend_1_port,
        "backend-2": settings.backend_2_port,
        "upstreams": settings.upstreams_port,
        "loadgen": settings.loadgen_port,
        "receiver": settings.receiver_port,
        "prometheus": settings.prometheus_port,
        "alertmanager": settings.alertmanager_port,
        "blackbox": settings.blackbox_port,
    }
    return {f"{host}:{port}": f"127.0.0.1:{native[host]}" for host, port in COMPOSE_ADDRESSES.items()}


def native_target(settings: StackSettings) -> Target:
    """127.0.0.1 addresses; no compose-only components, nor the load generator when the
    stack runs without it."""
    absent = COMPOSE_ONLY_HOSTS | (frozenset() if settings.loadgen else frozenset({"loadgen"}))
    return Target("native", address_map(settings), absent)


def compose_target(native_jobs: bool = False) -> Target:
    """Compose addresses as written; ``native_jobs`` keeps only the native stack's jobs."""
    return Target("compose", {}, COMPOSE_ONLY_HOSTS if native_jobs else frozenset())


def drill_of(settings: StackSettings) -> Drill | None:
    return Drill(settings.factor, settings.drill_interval_seconds) if settings.drill else None


def _map_strings(value: Any, amap: Mapping[str, str]) -> Any:
    """Replace compose addresses in every string of a YAML value (keys untouched)."""
    if not amap:
        return copy.deepcopy(value)
    pattern = re.compile(r"(?<![A-Za-z0-9_.-])(" + "|".join(map(re.escape, amap)) + r")(?![0-9])")

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return pattern.sub(lambda m: amap[m.group(1)], v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(value)


def _instance_relabels(amap: Mapping[str, str]) -> list[dict[str, Any]]:
    """Relabel rules giving ``instance`` its compose spelling: first default it to the
    address (as Prometheus would after relabelling), then map each native address back."""
    rules: list[dict[str, Any]] = [
        {
            "source_labels": ["instance", "__address__"],
            "separator": ";",
            "regex": ";(.*)",
            "target_label": "instance",
            "replacement": "$1",
        }
    ]
    for compose, native in amap.items():
        rules.append(
            {
                "source_labels": ["instance"],
                "regex": f"(.*){re.escape(native)}(/.*|)",
                "target_label": "instance",
                "replacement": f"${{1}}{compose}${{2}}",
            }
        )
    return rules


def _target_host(target: str) -> str:
    match = _HOST.match(target)
    return match.group(1) if match else target


def _without_hosts(job: dict[str, Any], absent: frozenset[str]) -> dict[str, Any] | None:
    """The job without targets on ``absent`` hosts; None when nothing is left."""
    if not absent or not job.get("static_configs"):
        return job
    kept_configs = []
    for static in job["static_configs"]:
        targets = [t for t in static.get("targets") or [] if _target_host(t) not in absent]
        if targets:
            kept_configs.append({**static, "targets": targets})
    return {**job, "static_configs": kept_configs} if kept_configs else None


def render_prometheus(
    doc: dict[str, Any], target: Target, drill: Drill | None = None, source: str = "prometheus.yml"
) -> dict[str, Any]:
    """The Prometheus configuration for ``target`` from a loaded ``prometheus.yml``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("scrape_configs"), list):
        raise RenderError(f"{source}: key 'scrape_configs' must be a list")
    amap = target.addresses
    out = copy.deepcopy(doc)
    jobs = []
    for i, job in enumerate(out["scrape_configs"]):
        if not isinstance(job, dict) or "job_name" not in job:
            raise RenderError(f"{source}: scrape_configs[{i}] has no 'job_name'")
        kept = _without_hosts(job, target.absent_hosts)
        if kept is None:
            continue
        # A copy even without addresses: YAML anchors share objects between jobs.
        kept = _map_strings(kept, amap)
        if amap:
            # Only the addresses this job can produce, to keep the rendered file readable.
            used = {c: n for c, n in amap.items() if n in repr(kept)}
            kept["relabel_configs"] = list(kept.get("relabel_configs") or []) + _instance_relabels(used)
        if drill:
            for key in ("scrape_interval", "scrape_timeout"):
                if key in kept:
                    kept[key] = drill.interval
        jobs.append(kept)
    out["scrape_configs"] = jobs
    if "alerting" in out:
        out["alerting"] = _map_strings(out["alerting"], amap)
    if drill:
        glob = out.setdefault("global", {}) or {}
        # The timeout must not exceed the interval; Prometheus refuses such a config.
        glob.update(
            scrape_interval=drill.interval, evaluation_interval=drill.interval, scrape_timeout=drill.interval
        )
        out["global"] = glob
    return out


def _compress_route(route: dict[str, Any], compression: Compression, where: str) -> None:
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in route:
            value = str(route[key])
            try:
                # Floor 1 s (Alertmanager needs a positive group_interval); 0s stays 0s.
                floor = 1000 if parse_duration(value) > 0 else 0
                route[key] = compression.scale(value, floor)
            except ValueError as exc:
                raise RenderError(f"{where}.{key}: {exc}") from exc
    for i, child in enumerate(route.get("routes") or []):
        _compress_route(child, compression, f"{where}.routes[{i}]")


def render_alertmanager(
    doc: dict[str, Any],
    target: Target,
    drill: Drill | None = None,
    environ: Mapping[str, str] | None = None,
    source: str = "alertmanager.yml",
) -> dict[str, Any]:
    """The Alertmanager configuration for ``target``: URL overrides, addresses, timers.
    Template paths stay as written (:func:`render_tree` copies the templates alongside)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("route"), dict):
        raise RenderError(f"{source}: key 'route' must be a mapping")
    environ = os.environ if environ is None else environ
    try:
        # Overrides first: their defaults are written with compose addresses.
        replaced = override_urls(doc, environ, source)
    except ValueError as exc:
        raise RenderError(str(exc)) from exc
    out: dict[str, Any] = _map_strings(replaced, target.addresses)
    if drill:
        _compress_route(out["route"], Compression(drill.factor), "route")
    return out


class _Dumper(yaml.SafeDumper):
    """Writes shared values out in full (no anchors) and multi-line strings as blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def _write_yaml(path: Path, doc: dict[str, Any], source: Path, what: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Rendered by `python -m stack render` (or `up`) from {source} ({what}).\n"
        "# Edit the source file, not this one: it is rewritten at every render.\n"
    )
    path.write_text(header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=110))


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RenderError(f"{path}: file not found")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RenderError(f"{path}: expected a mapping at the top level")
    return doc


def count_rule_groups(files: list[Path]) -> int:
    return sum(len((yaml.safe_load(f.read_text()) or {}).get("groups") or []) for f in files)


def render_rules(src_dir: Path, dst_dir: Path, compression: Compression | None) -> list[Path]:
    """Copy (or compress) every ``*.yml`` rule file; returns the written files."""
    if dst_dir.exists():
        shutil.rmtree(dst_dir)
    dst_dir.mkdir(parents=True)
    written = []
    for src in sorted(src_dir.glob("*.yml")):
        dst = dst_dir / src.name
        if compression is None:
            shutil.copyfile(src, dst)
        else:
            what = f"time-compressed by {compression.factor:g}, floor {compression.min_range_ms} ms"
            _write_yaml(dst, compression.rules(_load(src)), src, what)
        written.append(dst)
    return written


def copy_templates(doc: dict[str, Any], src_dir: Path, dst_dir: Path, source: str) -> list[Path]:
    """Copy the files each relative ``templates`` glob matches from ``src_dir`` to the same
    place under ``dst_dir`` (files the glob matched there before are removed first, so a
    deleted template does not linger). Globs that leave ``src_dir`` cannot be mounted into
    a container and are an error; absolute ones are left to the reader."""
    written: list[Path] = []
    for pattern in doc.get("templates") or []:
        if not isinstance(pattern, str):
            raise RenderError(f"{source}: templates entries must be strings, got {pattern!r}")
        if Path(pattern).is_absolute():
            continue
        if ".." in Path(pattern).parts:
            raise RenderError(f"{source}: templates entry {pattern!r} leaves the configuration's directory")
        for stale in dst_dir.glob(pattern):
            if stale.is_file():
                stale.unlink()
        for src in sorted(src_dir.glob(pattern)):
            if src.is_file():
                dst = dst_dir / src.relative_to(src_dir)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                written.append(dst)
    return written


def render_prometheus_dir(
    provisioning_dir: Path, out_dir: Path, target: Target, drill: Drill | None = None
) -> tuple[Path, list[Path]]:
    """``out_dir/prometheus/prometheus.yml`` and its ``rules/``; returns both."""
    mode = f"{target.name} addresses, " + (drill.describe() if drill else "production timers")
    src = provisioning_dir / "prometheus" / "prometheus.yml"
    out = out_dir / "prometheus" / "prometheus.yml"
    _write_yaml(out, render_prometheus(_load(src), target, drill, str(src)), src, mode)
    # rule_files are relative to prometheus.yml, so the rendered rules sit next to the rendered file.
    compression = drill.rule_compression() if drill else None
    rules = render_rules(provisioning_dir / "prometheus" / "rules", out.parent / "rules", compression)
    return out, rules


def render_alertmanager_dir(
    provisioning_dir: Path,
    out_dir: Path,
    target: Target,
    drill: Drill | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Path, list[Path]]:
    """``out_dir/alertmanager/alertmanager.yml`` and its templates; returns both."""
    mode = f"{target.name} addresses, " + (drill.describe() if drill else "production timers")
    src = provisioning_dir / "alertmanager" / "alertmanager.yml"
    out = out_dir / "alertmanager" / "alertmanager.yml"
    rendered = render_alertmanager(_load(src), target, drill, environ, str(src))
    _write_yaml(out, rendered, src, mode)
    return out, copy_templates(rendered, src.parent, out.parent, str(src))


def render_tree(
    provisioning_dir: Path,
    out_dir: Path,
    target: Target,
    drill: Drill | None = None,
    environ: Mapping[str, str] | None = None,
) -> Rendered:
    """Render Prometheus (config and rules), Alertmanager (config and templates) and the
    blackbox exporter's config from ``provisioning_dir`` into ``out_dir``, in the same
    layout (``prometheus/``, ``alertmanager/``, ``blackbox/``), for ``target``."""
    prom, rules = render_prometheus_dir(provisioning_dir, out_dir, target, drill)
    am, templates = render_alertmanager_dir(provisioning_dir, out_dir, target, drill, environ)
    # Nothing in it to render (it names no address); copied so the tree is complete.
    bb_src = provisioning_dir / "blackbox" / "blackbox.yml"
    if not bb_src.is_file():
        raise RenderError(f"{bb_src}: file not found")
    bb_out = out_dir / "blackbox" / "blackbox.yml"
    bb_out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bb_src, bb_out)
    return Rendered(prom, am, bb_out, rules, templates)


def render_all(settings: StackSettings, environ: Mapping[str, str] | None = None) -> Rendered:
    """Render every file the native stack needs into ``run_dir``."""
    return render_tree(
        settings.provisioning_dir, settings.run_dir, native_target(settings), drill_of(settings), environ
    )


# Prometheus flags that drill mode compresses, with the compose.drill.yaml variable that carries
# each. Alert re-sends, restart grace and outage tolerance scale with the rules, so "Alertmanager
# restarted while an alert fires" recovers in seconds, as it would in minutes.
DRILL_FLAGS = {
    "--rules.alert.resend-delay": ("DRILL_RESEND_DELAY", "1m"),
    "--rules.alert.for-grace-period": ("DRILL_FOR_GRACE_PERIOD", "10m"),
    "--rules.alert.for-outage-tolerance": ("DRILL_FOR_OUTAGE_TOLERANCE", "1h"),
}


def prometheus_drill_flags(factor: float) -> dict[str, str]:
    """``{flag: compressed value}`` for drill mode, with the same 1 s floor the native
    drill stack uses."""
    c = Compression(factor)
    return {flag: c.scale(default, 1000) for flag, (_, default) in DRILL_FLAGS.items()}

"""Render the provisioning files for the native stack.

The files in ``provisioning/`` are written for compose (``http://receiver:8300``,
targets ``backend-1:8000``) and stay the source of truth. Natively:

- every compose ``host:port`` becomes ``127.0.0.1:<port>`` (ports from :class:`StackSettings`);
- scrape jobs of compose-only components (Grafana, Loki, Tempo, Alloy) are dropped;
- each kept job gets relabelling that turns the ``instance`` label back into the compose
  address, so alerts carry the same labels in both ways of running (``backend-1:8000``);
- Alertmanager receiver URLs and the routing key take the ``ALERTMANAGER_*`` overrides
  documented in ``alertmanager.yml``'s header (parsed from that comment, so the file
  stays the one place that lists them); template paths become absolute;
- in drill mode: 1 s scrape and evaluation intervals, rules time-compressed
  (:mod:`stack.timecompress`), Alertmanager group timers divided by the same factor with a
  1 s floor.

Rule files are copied byte for byte when not compressed, so their comments survive.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stack.native.settings import StackSettings
from stack.timecompress import Compression, parse_duration

__all__ = [
    "COMPOSE_ONLY_HOSTS",
    "RenderError",
    "Rendered",
    "address_map",
    "alertmanager_overrides",
    "render_alertmanager",
    "render_all",
    "render_prometheus",
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
COMPOSE_ONLY_HOSTS = frozenset({"grafana", "loki", "tempo", "alloy", "collector", "otel-collector"})
_OVERRIDE_LINE = re.compile(r"^#\s+(ALERTMANAGER_[A-Z0-9_]+)\s+(\S+)\s*$", re.MULTILINE)
_HOST = re.compile(r"^(?:[a-z]+://)?([A-Za-z0-9_.-]+)(?::\d+)?(?:/.*)?$")


class RenderError(ValueError):
    """A provisioning file that cannot be rendered; the message names file and key."""


@dataclass(frozen=True)
class Rendered:
    prometheus_config: Path
    alertmanager_config: Path
    blackbox_config: Path
    rule_files: list[Path]


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


def _map_strings(value: Any, amap: Mapping[str, str]) -> Any:
    """Replace compose addresses in every string of a YAML value (keys untouched)."""
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


def _native_only(job: dict[str, Any], absent: frozenset[str]) -> dict[str, Any] | None:
    """The job without targets on ``absent`` hosts; None when nothing is left."""
    kept_configs = []
    for static in job.get("static_configs") or []:
        targets = [t for t in static.get("targets") or [] if _target_host(t) not in absent]
        if targets:
            kept_configs.append({**static, "targets": targets})
    if job.get("static_configs") and not kept_configs:
        return None
    if job.get("static_configs"):
        job = {**job, "static_configs": kept_configs}
    return job


def render_prometheus(
    doc: dict[str, Any], settings: StackSettings, source: str = "prometheus.yml"
) -> dict[str, Any]:
    """The native Prometheus configuration for a loaded ``prometheus.yml``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("scrape_configs"), list):
        raise RenderError(f"{source}: key 'scrape_configs' must be a list")
    amap = address_map(settings)
    # Compose-only components, and the load generator when this stack runs without it.
    absent = COMPOSE_ONLY_HOSTS | (frozenset() if settings.loadgen else frozenset({"loadgen"}))
    out = copy.deepcopy(doc)
    jobs = []
    for i, job in enumerate(out["scrape_configs"]):
        if not isinstance(job, dict) or "job_name" not in job:
            raise RenderError(f"{source}: scrape_configs[{i}] has no 'job_name'")
        kept = _native_only(job, absent)
        if kept is None:
            continue
        kept = _map_strings(kept, amap)
        # Only the addresses this job can produce, to keep the rendered file readable.
        used = {c: n for c, n in amap.items() if n in repr(kept)}
        kept["relabel_configs"] = list(kept.get("relabel_configs") or []) + _instance_relabels(used)
        if settings.drill:
            interval = f"{settings.drill_interval_seconds}s"
            for key in ("scrape_interval", "scrape_timeout"):
                if key in kept:
                    kept[key] = interval
        jobs.append(kept)
    out["scrape_configs"] = jobs
    if "alerting" in out:
        out["alerting"] = _map_strings(out["alerting"], amap)
    if settings.drill:
        interval = f"{settings.drill_interval_seconds}s"
        glob = out.setdefault("global", {}) or {}
        # The timeout must not exceed the interval; Prometheus refuses such a config.
        glob.update(scrape_interval=interval, evaluation_interval=interval, scrape_timeout=interval)
        out["global"] = glob
    return out


def alertmanager_overrides(text: str) -> dict[str, str]:
    """``{env var: default}``: the table of :mod:`stack.alerting` (the rules' own package),
    on top of what the header comment of ``alertmanager.yml`` lists."""
    table = dict(_OVERRIDE_LINE.findall(text))
    try:
        from stack.alerting import URL_OVERRIDES
    except ImportError:  # pragma: no cover - the package ships with the rules
        return table
    return {**table, **URL_OVERRIDES}


def _replace_exact(value: Any, replacements: Mapping[str, str], seen: set[str] | None = None) -> Any:
    """Replace whole string values (never parts, never comments: the file's header lists
    the defaults too)."""
    if isinstance(value, str):
        if value in replacements and seen is not None:
            seen.add(value)
        return replacements.get(value, value)
    if isinstance(value, list):
        return [_replace_exact(x, replacements, seen) for x in value]
    if isinstance(value, dict):
        return {k: _replace_exact(x, replacements, seen) for k, x in value.items()}
    return value


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
    text: str,
    settings: StackSettings,
    source_dir: Path,
    environ: Mapping[str, str] | None = None,
    source: str = "alertmanager.yml",
) -> dict[str, Any]:
    """The native Alertmanager configuration: overrides, addresses, template paths, timers."""
    if not isinstance(doc, dict) or not isinstance(doc.get("route"), dict):
        raise RenderError(f"{source}: key 'route' must be a mapping")
    environ = os.environ if environ is None else environ
    table = {var: default for var, default in alertmanager_overrides(text).items() if environ.get(var)}
    overrides = {default: environ[var] for var, default in table.items()}
    seen: set[str] = set()
    replaced = _replace_exact(copy.deepcopy(doc), overrides, seen)
    unused = [var for var, default in table.items() if default not in seen]
    if unused:
        raise RenderError(
            f"{source}: {', '.join(unused)} set, but no value in the file equals its default "
            f"({', '.join(table[v] for v in unused)})"
        )
    out: dict[str, Any] = _map_strings(replaced, address_map(settings))
    out["templates"] = [
        t if Path(t).is_absolute() else str((source_dir / t).resolve()) for t in out.get("templates") or []
    ]
    if settings.drill:
        _compress_route(out["route"], Compression(settings.factor), "route")
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
        f"# Rendered by `python -m stack up` from {source} ({what}).\n"
        "# Edit the source file, not this one: it is rewritten at every start.\n"
    )
    path.write_text(header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=110))


def _load(path: Path) -> tuple[dict[str, Any], str]:
    if not path.is_file():
        raise RenderError(f"{path}: file not found")
    text = path.read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RenderError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RenderError(f"{path}: expected a mapping at the top level")
    return doc, text


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
            doc, _ = _load(src)
            what = f"time-compressed by {compression.factor:g}, floor {compression.min_range_ms} ms"
            _write_yaml(dst, compression.rules(doc), src, what)
        written.append(dst)
    return written


def render_all(settings: StackSettings, environ: Mapping[str, str] | None = None) -> Rendered:
    """Render every file the native stack needs into ``run_dir``."""
    prov, run = settings.provisioning_dir, settings.run_dir
    mode = (
        f"drill mode: {settings.drill_interval_seconds}s intervals, factor {settings.factor:g}"
        if settings.drill
        else "addresses only"
    )

    prom_src = prov / "prometheus" / "prometheus.yml"
    prom_doc, _ = _load(prom_src)
    prom_out = run / "prometheus" / "prometheus.yml"
    _write_yaml(prom_out, render_prometheus(prom_doc, settings, str(prom_src)), prom_src, mode)
    # rule_files are relative to prometheus.yml, so the rendered rules sit next to the rendered file.
    compression = (
        Compression(
            settings.factor,
            min_range_ms=4000 * settings.drill_interval_seconds,
            min_step_ms=1000 * settings.drill_interval_seconds,
        )
        if settings.drill
        else None
    )
    rules = render_rules(prov / "prometheus" / "rules", run / "prometheus" / "rules", compression)

    am_src = prov / "alertmanager" / "alertmanager.yml"
    am_doc, am_text = _load(am_src)
    am_out = run / "alertmanager" / "alertmanager.yml"
    rendered_am = render_alertmanager(am_doc, am_text, settings, am_src.parent, environ, str(am_src))
    _write_yaml(am_out, rendered_am, am_src, mode)

    blackbox = prov / "blackbox" / "blackbox.yml"
    if not blackbox.is_file():
        raise RenderError(f"{blackbox}: file not found")
    return Rendered(prom_out, am_out, blackbox, rules)

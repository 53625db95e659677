"""Time compression scales every waiting duration of a rule file and nothing else."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from stack.timecompress import Compression, DurationError, format_duration, parse_duration

RULES_DIR = Path(__file__).resolve().parents[3] / "provisioning" / "prometheus" / "rules"
C60 = Compression(factor=60, min_range_ms=4_000, min_step_ms=1_000)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("250ms", 250),
        ("30s", 30_000),
        ("5m", 300_000),
        ("2h", 7_200_000),
        ("3d", 259_200_000),
        ("1w", 604_800_000),
        ("1y", 31_536_000_000),
        ("1h30m", 5_400_000),
        ("1d2h3m4s5ms", 93_784_005),
        ("0s", 0),
    ],
)
def test_parse_every_unit_and_compounds(text: str, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "1.5h", "30m1h", "5m5m", "-5m", "5M"])
def test_parse_rejects_what_prometheus_rejects(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (1, "1ms"),
        (1_500, "1500ms"),
        (5_000, "5s"),
        (90_000, "90s"),
        (120_000, "2m"),
        (86_400_000, "1d"),
    ],
)
def test_format_uses_one_integer_unit(ms: int, text: str) -> None:
    assert format_duration(ms) == text
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("5m", "5s"),
        ("15m", "15s"),
        ("1h", "1m"),
        ("1h30m", "90s"),
        ("3d", "72m"),
        ("1w", "168m"),
        ("1y", "146h"),
        ("30s", "500ms"),
        ("1s", "17ms"),
        ("1ms", "1ms"),
        ("0s", "0s"),
    ],
)
def test_for_scales_every_unit_without_floor(duration: str, expected: str) -> None:
    assert C60.scale(duration) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("rate(x[5m])", "rate(x[5s])"),
        ("rate(x[1m])", "rate(x[4s])"),  # floor: four scrape intervals
        ("rate(x[30s])", "rate(x[4s])"),
        ("rate(x[1h30m])", "rate(x[90s])"),
        ("rate(x[3d])", "rate(x[72m])"),
        ("rate(x[250ms])", "rate(x[4s])"),
        ("rate(x[ 5m ])", "rate(x[ 5s ])"),
        ("max_over_time(rate(x[5m])[1h:5m])", "max_over_time(rate(x[5s])[1m:5s])"),
        ("max_over_time(rate(x[5m])[1h:])", "max_over_time(rate(x[5s])[1m:])"),
        ("max_over_time(x[30m:10s])", "max_over_time(x[30s:1s])"),  # resolution floor: one scrape
        ("x offset 5m", "x offset 5s"),
        ("x offset -1h", "x offset -1m"),
        ("x OFFSET 2d", "x OFFSET 48m"),
        ("rate(x[5m] offset 1w)", "rate(x[5s] offset 168m)"),
        ("rate(x[5m])[1h:1m] offset 1h", "rate(x[5s])[1m:1s] offset 1m"),
        ("x @ 1609746000", "x @ 1609746000"),
        ("rate(x[5m] @ 1609746000 offset 10m)", "rate(x[5s] @ 1609746000 offset 10s)"),
        ("rate(x[5m] @ end())", "rate(x[5s] @ end())"),
        ('rate(x{path="/a[5m]"}[10m])', 'rate(x{path="/a[5m]"}[10s])'),
        ("rate(x{path='/b[1h:5m]'}[10m])", "rate(x{path='/b[1h:5m]'}[10s])"),
        ('rate(x{p=~"a\\"[5m]"}[10m])', 'rate(x{p=~"a\\"[5m]"}[10s])'),
        ("rate(x{p=`[5m] offset 5m`}[10m])", "rate(x{p=`[5m] offset 5m`}[10s])"),
        ('label_replace(x, "d", "offset 5m", "s", ".*")', 'label_replace(x, "d", "offset 5m", "s", ".*")'),
        ("offset_total offset 5m", "offset_total offset 5s"),
        ("rate(offset[5m])", "rate(offset[5s])"),
        ("sum by (offset) (x)", "sum by (offset) (x)"),
        ("x # comment about [5m] and offset 5m\n> 1", "x # comment about [5m] and offset 5m\n> 1"),
        (
            'sum(rate(h_bucket{le=~"2.5|2.50*"}[5m])) / sum(rate(h_count[5m])) < 0.99',
            'sum(rate(h_bucket{le=~"2.5|2.50*"}[5s])) / sum(rate(h_count[5s])) < 0.99',
        ),
        ("histogram_quantile(0.99, rate(h[5m])) > 5", "histogram_quantile(0.99, rate(h[5s])) > 5"),
        ("absent(up == 1) or vector(5) > 300", "absent(up == 1) or vector(5) > 300"),
    ],
)
def test_expressions(expr: str, expected: str) -> None:
    assert C60.expr(expr) == expected


def _facts(expr: str) -> dict[str, Any]:
    """Everything in an expression that must survive compression: numbers and matchers."""
    numbers: list[float] = []
    matchers: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.NumberLiteral):
            numbers.append(node.val)
        if isinstance(node, promql_parser.VectorSelector):
            matchers.append(str(node.matchers))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return {"numbers": numbers, "matchers": matchers}


def _random_expr(rng: random.Random) -> str:
    dur = rng.choice(["30s", "1m", "5m", "10m", "1h", "1h30m", "6h", "1d", "3d", "1w"])
    threshold = rng.choice(["0", "0.05", "0.2", "2.5", "5", "80", "0.999", "1e3", "300"])
    selector = rng.choice(["x", 'x{le="2.5"}', 'x{path="/a[5m]"}', 'x{job=~"backend|b[1h:5m]"}'])
    inner = rng.choice(
        [
            f"rate({selector}[{dur}])",
            f"max_over_time(rate({selector}[{dur}])[{dur}:{rng.choice(['1s', '30s', '5m'])}])",
            f"{selector} offset {dur}",
            f"increase({selector}[{dur}] offset {dur})",
        ]
    )
    return f"sum({inner}) {rng.choice(['>', '<', '>=', '=='])} {threshold}"


@pytest.mark.parametrize("seed", range(200))
def test_property_numbers_and_matchers_never_change(seed: int) -> None:
    expr = _random_expr(random.Random(seed))
    for factor in (1, 7.5, 60, 3600):
        compressed = Compression(factor=factor).expr(expr)
        assert _facts(compressed) == _facts(expr), (expr, compressed)


def test_factor_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Compression(factor=0)


def test_rules_document_for_keep_firing_for_interval_and_expr() -> None:
    doc: dict[str, Any] = {
        "groups": [
            {
                "name": "g",
                "interval": "30s",
                "rules": [
                    {"record": "r", "expr": "rate(x[5m])"},
                    {
                        "alert": "A",
                        "expr": "r > 0.05",
                        "for": "5m",
                        "keep_firing_for": "10m",
                        "labels": {"severity": "critical"},
                        "annotations": {"description": "above 5% for 5m (rate over [5m])"},
                    },
                ],
            }
        ]
    }
    out = C60.rules(doc)
    group = out["groups"][0]
    assert group["interval"] == "1s"
    assert group["rules"][0]["expr"] == "rate(x[5s])"
    assert group["rules"][1]["for"] == "5s"
    assert group["rules"][1]["keep_firing_for"] == "10s"
    # Annotations are text for people: left exactly as written.
    assert group["rules"][1]["annotations"] == doc["groups"][0]["rules"][1]["annotations"]
    assert doc["groups"][0]["rules"][1]["for"] == "5m", "the input must not be modified"


def _real_rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yml")) if RULES_DIR.is_dir() else []


@pytest.mark.rules
def test_compressed_real_rules_pass_promtool(tmp_path: Path) -> None:
    files = _real_rule_files()
    if not files:
        pytest.skip(f"no rule files in {RULES_DIR} yet")
    promtool = shutil.which("promtool")
    assert promtool
    written = []
    for src in files:
        doc = yaml.safe_load(src.read_text())
        dst = tmp_path / src.name
        dst.write_text(yaml.safe_dump(C60.rules(doc), sort_keys=False))
        written.append(str(dst))
    result = subprocess.run([promtool, "check", "rules", *written], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""The examples in deploy/ load, and every series they name is one Frontline exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from store.db import create_probe_engine

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "frontline-rules.yml"
DASHBOARD = DEPLOY / "grafana" / "frontline-dashboard.json"
SERIES = re.compile(r"\b((?:frontline|process)_[a-z_]+)\b")


def exported_series(database_url: str) -> set[str]:
    metrics = Metrics()
    metrics.watch_database(create_probe_engine(database_url), lambda: datetime.now(UTC))
    metrics.slack_request("command", "ok", 0.01)  # labelled series appear once they have a value
    metrics.slack_api_call("chat.postMessage", "ok")
    text = generate_latest(metrics.registry).decode()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def expressions() -> Iterator[str]:
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield rule["expr"]
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel["targets"]:
            yield target["expr"]


def test_the_rules_are_four_alerts_with_what_an_operator_needs() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert [rule["alert"] for rule in alerts] == [
        "FrontlineSweepStale",
        "FrontlineOutboxGrowing",
        "FrontlineBreachesRising",
        "FrontlineMessagesGivenUp",
    ]
    for rule in alerts:
        assert rule["expr"] and rule["for"] and rule["labels"]["severity"] in {"page", "warn"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
    if shutil.which("promtool"):  # Prometheus' own check where it is installed (it is not a Python package)
        checked = subprocess.run(
            ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_scrape_config_names_the_rules_and_a_job_per_process_kind() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.example.yml").read_text())
    assert config["rule_files"] == [RULES.name]
    assert [job["job_name"] for job in config["scrape_configs"]] == ["frontline-web", "frontline-worker"]


def test_the_dashboard_is_grafana_json_with_a_prometheus_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "frontline-ops" and dashboard["panels"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_series_the_examples_name_is_exported(database_url: str) -> None:
    exported = exported_series(database_url)
    named = {name for expr in expressions() for name in SERIES.findall(expr)}
    assert named, "no series found in the examples"
    assert named <= exported, sorted(named - exported)

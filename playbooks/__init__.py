"""The playbooks Frontline ships, one YAML file each (seed 001 Phase 11), and reading a directory
of them. A file is valid when `bot.core.playbooks.Playbook` accepts it and its `name` is its file
name; every problem of every file is reported, each with the file's path and the key in error."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from bot.config import ConfigError, describe_validation_error, read_yaml
from bot.core.playbooks import Playbook

__all__ = ["SHIPPED", "load_playbooks"]

SHIPPED = Path(__file__).parent


def load_playbooks(directory: Path | None = None) -> dict[str, Playbook]:
    """Every `*.yaml` playbook in `directory` (default: the shipped ones), by name."""
    folder = directory or SHIPPED
    if not folder.is_dir():
        raise ConfigError([f"{folder}: no such directory of playbooks"])
    problems: list[str] = []
    found: dict[str, Playbook] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            data = read_yaml(path)
        except ConfigError as error:
            problems += error.problems
            continue
        try:
            playbook = Playbook.model_validate(data)
        except ValidationError as error:
            problems += [f"{path}: {line}" for line in describe_validation_error(error)]
            continue
        if playbook.name != path.stem:
            problems.append(
                f"{path}: name: must be the file's name without .yaml ('{path.stem}', got '{playbook.name}')"
            )
            continue
        found[playbook.name] = playbook
    problems += _incident_problems(folder, found)
    if problems:
        raise ConfigError(problems)
    return found


def _incident_problems(folder: Path, found: dict[str, Playbook]) -> list[str]:
    """`/incident start` runs the `incident` playbook with its reporter as `commander`."""
    incident = found.get("incident")
    if incident is None:
        return [f"{folder}: no incident.yaml: `/incident start` runs a playbook named `incident`"]
    if "commander" not in incident.roles:
        return [f"{folder}/incident.yaml: roles: must include `commander` (the person who starts an incident)"]
    return []

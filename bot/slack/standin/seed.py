"""The default workspace: the team and bot identity, and the people and channels it starts with."""

from __future__ import annotations

from dataclasses import dataclass

# --- the default workspace -------------------------------------------------------------------------

TEAM_ID = "T_FRONTLINE"
TEAM_NAME = "Frontline Demo"
TEAM_DOMAIN = "frontline-demo"
BOT_USER_ID = "U_FRONTLINE"
BOT_ID = "B_FRONTLINE"
APP_ID = "A_FRONTLINE"
BOT_NAME = "frontline"
BOT_REAL_NAME = "Frontline"


@dataclass(frozen=True)
class SeedUser:
    """A person the default workspace starts with."""

    user_id: str
    name: str
    real_name: str
    tz: str
    email: str
    title: str = ""
    is_admin: bool = False


SEED_USERS: tuple[SeedUser, ...] = (
    SeedUser(
        "U_REQUESTER",
        "jordan.kim",
        "Jordan Kim",
        "America/Chicago",
        "jordan.kim@acme.example.com",
        "Operations Manager, Acme",
    ),
    SeedUser(
        "U_AGENT1",
        "alex.rivera",
        "Alex Rivera",
        "America/New_York",
        "alex.rivera@frontline.example.com",
        "Support Engineer",
    ),
    SeedUser(
        "U_AGENT2",
        "priya.natarajan",
        "Priya Natarajan",
        "Europe/London",
        "priya.natarajan@frontline.example.com",
        "Senior Support Engineer (L2)",
    ),
    SeedUser(
        "U_LEAD", "sam.okafor", "Sam Okafor", "America/New_York", "sam.okafor@frontline.example.com", "Support Lead"
    ),
    SeedUser(
        "U_ENG",
        "mei.chen",
        "Mei Chen",
        "America/Los_Angeles",
        "mei.chen@frontline.example.com",
        "Software Engineer (L3)",
    ),
    SeedUser(
        "U_ADMIN",
        "dana.whitfield",
        "Dana Whitfield",
        "America/Denver",
        "dana.whitfield@frontline.example.com",
        "IT Administrator",
        is_admin=True,
    ),
)

SEED_CHANNELS: tuple[tuple[str, str], ...] = (
    ("C_TRIAGE", "support-triage"),
    ("C_HELP", "help"),
    ("C_L2", "support-l2"),
    ("C_L3", "support-l3"),
    ("C_MGMT", "support-mgmt"),
    ("C_INCIDENTS", "incidents"),
    ("C_SOCIAL", "social"),
    ("C_STANDUP", "support-standup"),
)

# (id, handle, members): a group that `roles` can name instead of listing people.
SEED_USERGROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("S_SUPPORT", "support-team", ("U_AGENT1", "U_AGENT2")),
)

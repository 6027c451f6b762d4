"""Seed 001's response templates (Phase 4), filled with what the ticket knows.

`/ticket reply T-42 <template>` opens them in a form for the agent to finish: the bracketed parts
that only a person can write stay as prompts, and the form will not post while any remain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TEMPLATES", "Template", "fill", "open_prompts", "template_named"]


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    text: str


TEMPLATES: dict[str, Template] = {
    "bug": Template(
        "bug",
        "Bug Report Acknowledgment",
        (
            "Hi [Name],\n"
            "\n"
            "Thanks for reporting this — I can see how [specific impact] would be frustrating.\n"
            "\n"
            "I've reproduced the issue on my end and confirmed [what you found]. I'm escalating this to our engineering team with priority [P level].\n"
            "\n"
            "Here's what happens next:\n"
            "- Engineering will investigate within [timeframe]\n"
            "- I'll update you as soon as we have a fix or workaround\n"
            "- In the meantime, you can [workaround if available]\n"
            "\n"
            "Reference: [Ticket #]\n"
            "\n"
            "Let me know if anything changes on your end. I'm on this until it's resolved.\n"
            "\n"
            "[Agent Name]\n"
        ).rstrip(),
    ),
    "feature": Template(
        "feature",
        "Feature Request Response",
        (
            "Hi [Name],\n"
            "\n"
            "Great suggestion — [specific feature] would definitely [acknowledge the value].\n"
            "\n"
            "I've logged this as a feature request and linked it to [X] similar requests from other customers. Our product team reviews these monthly to prioritize the roadmap.\n"
            "\n"
            "While I can't promise a timeline, the volume of requests for this is helping make the case. I'll tag you on any updates.\n"
            "\n"
            "In the meantime, have you tried [alternative approach]? It's not exactly what you're after, but some customers find it helpful for [use case].\n"
            "\n"
            "Thanks for taking the time to share this — feedback like yours directly shapes what we build.\n"
            "\n"
            "[Agent Name]\n"
        ).rstrip(),
    ),
    "deescalate": Template(
        "deescalate",
        "Angry Customer De-escalation",
        (
            "Hi [Name],\n"
            "\n"
            "I hear you, and I'm sorry — this isn't the experience you should be having with [product].\n"
            "\n"
            "Let me be direct about what happened: [honest explanation without excuses].\n"
            "\n"
            "Here's what I'm doing right now:\n"
            "1. [Immediate action]\n"
            "2. [Next step with timeline]\n"
            "3. [Compensation/goodwill if appropriate]\n"
            "\n"
            "I take full ownership of getting this resolved. You'll hear from me by [specific time], not with an update that we're \"still working on it\" — with an actual resolution.\n"
            "\n"
            "[Agent Name]\n"
        ).rstrip(),
    ),
    "billing": Template(
        "billing",
        "Billing Issue Resolution",
        (
            "Hi [Name],\n"
            "\n"
            "I've looked into your billing concern and here's what I found:\n"
            "\n"
            "[Clear explanation of what happened with the charge]\n"
            "\n"
            "Action taken: [refund processed / credit applied / correction made]\n"
            "- Amount: $[X]\n"
            "- You'll see this reflected within [timeframe]\n"
            "- Reference: [transaction ID]\n"
            "\n"
            "To prevent this going forward: [what changed or what to watch for].\n"
            "\n"
            "Everything look right? Happy to walk through your billing history if you'd like a full review.\n"
            "\n"
            "[Agent Name]\n"
        ).rstrip(),
    ),
    "no": Template(
        "no",
        "Saying No Gracefully",
        (
            "Hi [Name],\n"
            "\n"
            "I understand why you'd want [requested action] — it makes sense given [their situation].\n"
            "\n"
            'Unfortunately, I\'m not able to [specific thing] because [honest reason — not "our policy says"].\n'
            "\n"
            "Here's what I can do instead:\n"
            "- Option A: [alternative that partially addresses their need]\n"
            "- Option B: [different approach]\n"
            "- Option C: [escalation path if they want to pursue further]\n"
            "\n"
            "Which of these works best for you? Or if none of these hit the mark, let me know what you're ultimately trying to achieve and I'll see what else we can figure out.\n"
            "\n"
            "[Agent Name]\n"
        ).rstrip(),
    ),
}

_ALIASES = {
    "bug": "bug", "bug-ack": "bug", "feature": "feature", "feature-request": "feature", "deescalate": "deescalate",
    "de-escalate": "deescalate", "angry": "deescalate", "billing": "billing", "no": "no", "saying-no": "no",
}  # fmt: skip

_PROMPT = re.compile(r"\[[^\]\n]{1,80}\]")


def template_named(name: str) -> Template | None:
    key = _ALIASES.get(name.lower())
    return TEMPLATES[key] if key else None


def fill(template: Template, *, requester: str, ticket_ref: str, priority: str, agent: str) -> str:
    """The template with what the ticket knows filled in (names as Slack mentions)."""
    known = {
        "[Name]": requester,
        "[Ticket #]": ticket_ref,
        "[P level]": priority,
        "[Agent Name]": agent,
    }
    text = template.text
    for placeholder, value in known.items():
        text = text.replace(placeholder, value)
    return text


def open_prompts(text: str) -> list[str]:
    """The bracketed parts still to be written by a person."""
    return _PROMPT.findall(text)

"""Sequence diagrams written as text (``App -> Provider: POST /token``) and drawn as SVG.

Unlike ``dashboard.sequence``, which draws a recorded login on fixed lanes, these are drawn
from the notebook's own words, for any participants (a CLI, a phone, a thief).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

BOX = 'fill="#eef2ff" stroke="#4f46e5"'
LIFELINE = 'stroke="#aaa" stroke-dasharray="3,3"'
ARROW = 'stroke="#333" marker-end="url(#a)"'
MESSAGE = re.compile(r"\s*(.+?)\s*(-->|->)\s*(.+?)\s*:\s*(.*)")
ROW, TOP = 30, 46  # pixels per message, and above the first one


@dataclass(frozen=True)
class Message:
    """One arrow: ``source -> target: label``, or ``-->`` for a reply."""

    source: str
    target: str
    label: str
    reply: bool  # drawn dashed, as UML does for replies


@dataclass(frozen=True)
class Sequence:
    """A sequence diagram from lines like ``App -> Provider: POST /token`` (``-->`` for replies).

    Jupyter shows it as SVG; plain-text viewers see the source, which reads fine too.
    """

    source: str

    def messages(self) -> list[Message]:
        """The arrows, in order; lines that are not ``A -> B: label`` are ignored."""
        found = []
        for line in self.source.strip().splitlines():
            if match := MESSAGE.match(line):
                source, arrow, target, label = match.groups()
                found.append(Message(source, target, label, arrow == "-->"))
        return found

    def __repr__(self) -> str:
        return "\n".join(line.strip() for line in self.source.strip().splitlines())

    def _repr_svg_(self) -> str:
        messages = self.messages()
        people: list[str] = []
        for m in messages:
            people += [p for p in (m.source, m.target) if p not in people]
        gap = _gap(people, messages)
        x = {p: gap * i + gap // 2 for i, p in enumerate(people)}
        width, height = gap * len(people), TOP + ROW * len(messages) + 20
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="12">',
            # A white halo keeps labels readable where they cross a lifeline.
            "<style>text { paint-order: stroke; stroke: white; stroke-width: 4px; }</style>",
            '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
            '<path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>',
        ]
        for p in people:
            parts.append(
                f'<rect x="{x[p] - 80}" y="4" width="160" height="26" rx="5" {BOX}/>'
                f'<text x="{x[p]}" y="21" text-anchor="middle" font-weight="bold" stroke="none">'
                f"{escape(p)}</text>"
                f'<line x1="{x[p]}" y1="30" x2="{x[p]}" y2="{height - 4}" {LIFELINE}/>'
            )
        for i, m in enumerate(messages):
            parts.append(_arrow(m, x, TOP + ROW * i + 12))
        parts.append("</svg>")
        return "".join(parts)


def _gap(people: list[str], messages: list[Message]) -> int:
    # Lanes as far apart as the longest label per lane it spans needs (≈6.4 px a character).
    longest = max(
        (len(m.label) / max(1, abs(people.index(m.source) - people.index(m.target))) for m in messages),
        default=0,
    )
    return int(min(340, max(190, 6.4 * longest + 24)))


def _arrow(m: Message, x: dict[str, int], y: int) -> str:
    if m.source == m.target:  # a step the participant takes on its own
        return (
            f'<path d="M{x[m.source]},{y - 8} h24 v12 h-22" fill="none" {ARROW}/>'
            f'<text x="{x[m.source] + 30}" y="{y}">{escape(m.label)}</text>'
        )
    dash = ' stroke-dasharray="5,3"' if m.reply else ""
    return (
        f'<line x1="{x[m.source]}" y1="{y}" x2="{x[m.target]}" y2="{y}"{dash} {ARROW}/>'
        f'<text x="{(x[m.source] + x[m.target]) / 2}" y="{y - 4}" text-anchor="middle">'
        f"{escape(m.label)}</text>"
    )


def sequence(source: str) -> Sequence:
    """A diagram for Jupyter to draw; see ``Sequence`` for the notation."""
    return Sequence(source)

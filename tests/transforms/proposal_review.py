"""A simulated review of a mapping proposal: accept the entries at or above a confidence, compare them with a
known-good mapping, and count precision per kind of entry (bench/ and docs/mapping.md quote the figures)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from transforms.list_mapping import ColumnMapping, SiteMapping, types_compatible


@dataclass
class Review:
    accepted: Counter[str] = field(default_factory=Counter)  # entry kind -> entries at or above the threshold
    correct: Counter[str] = field(default_factory=Counter)
    known: int = 0  # entries of the known-good mapping
    wrong: list[str] = field(default_factory=list)

    def precision(self, kind: str | None = None) -> float:
        accepted = self.accepted[kind] if kind else sum(self.accepted.values())
        correct = self.correct[kind] if kind else sum(self.correct.values())
        return correct / accepted if accepted else 1.0

    @property
    def coverage(self) -> float:
        """Share of the known-good entries the accepted part gets right."""
        return sum(self.correct.values()) / self.known if self.known else 0.0


def kind_of(entry: ColumnMapping) -> str:
    return "ignore" if entry.is_ignored else str(entry.type)


def same_entry(proposed: ColumnMapping, expected: ColumnMapping) -> bool:
    """Equal for the sync: both ignored, or the same targets, compatible type, choices, lookup, bridge, rank."""
    if proposed.is_ignored or expected.is_ignored:
        return proposed.is_ignored and expected.is_ignored
    assert proposed.type is not None and expected.type is not None
    return (
        proposed.to == expected.to
        and types_compatible(proposed.type, expected.type)
        and dict(proposed.choices) == dict(expected.choices)
        and (proposed.lookup_list, proposed.bridge, proposed.rank)
        == (expected.lookup_list, expected.bridge, expected.rank)
    )


def review(proposal: SiteMapping, expected: SiteMapping, threshold: float) -> Review:
    result = Review(known=sum(len(one.columns) for one in expected.lists))
    lists = {one.display_name: one for one in expected.lists}
    for one in proposal.lists:
        known = lists.get(one.display_name)
        for entry in one.columns:
            if entry.confidence is None or entry.confidence < threshold:
                continue
            kind = kind_of(entry)
            result.accepted[kind] += 1
            good = known is not None and known.table == one.table
            match = next((c for c in known.columns if c.name == entry.name), None) if known else None
            if good and match is not None and same_entry(entry, match):
                result.correct[kind] += 1
            else:
                result.wrong.append(f"{one.display_name}.{entry.name}: proposed {entry}, expected {match}")
    return result

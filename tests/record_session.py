"""A finished demo session (meeting/script.py run in memory) and its record, shared by the record tests."""

from __future__ import annotations

import functools

from meeting.messages import Event
from meeting.resolutions import Resolution
from record.inputs import RecordInputs, demo_inputs
from record.projection import Projection, project
from server.simulate import MemoryRunner, simulate

AUDIT_HEADS = {"council:hdnd-minh-hoa": "9f" * 32, "session:ky-hop-4": "a1" * 32}


@functools.cache
def demo_run() -> MemoryRunner:
    return simulate(out=lambda _: None)


def demo_events() -> list[Event]:
    return [r.event for r in demo_run().log]


def demo_resolutions() -> list[Resolution]:
    council = demo_run().council
    assert council is not None
    return list(council.resolutions.values())


def demo_projection(inputs: RecordInputs | None = None) -> Projection:
    if inputs is None:
        base = demo_inputs()
        inputs = RecordInputs(
            profile=base.profile,
            drafts=base.drafts,
            absence_reasons=base.absence_reasons,
            vote_committee=base.vote_committee,
            minutes_number=base.minutes_number,
            audit_heads=AUDIT_HEADS,
        )
    return project(demo_events(), demo_resolutions(), inputs)

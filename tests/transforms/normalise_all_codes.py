"""Items that make normalise_page report every normalisation code of the catalogue once."""

from __future__ import annotations

from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from tests.transforms.every_type import EVERY_TYPE_DATASET, EVERY_TYPE_MAPPING, KEY, context
from transforms.normalise import NormaliseContext, normalise_page
from transforms.report import Report

LIST_ID = "5a0e7c36-4a52-4b5e-8f0e-3f1c2d9b8a71"


def normalise_every_code() -> Report:
    things = [
        {"id": "1", "fields": {"Status": "Shut", "AreaLookupId": "99", "OwnerLookupId": "404", "Mood": "x",
                               "Title": "Call Darren on 07700 900436"}},
        {"id": "2", "fields": {"At": "2025-03-30T01:30:00"}},
        {"id": "3", "fields": {"At": "2025-10-26T01:30:00"}},
    ]  # fmt: skip
    first = normalise_page(things, EVERY_TYPE_MAPPING, context(LIST_ID), dataset=EVERY_TYPE_DATASET)
    ccr = DEMO_SITE_MAPPING.list_mapping("Community Contact Records")
    without_consent = [{"id": "1", "fields": {"Diversity_x0020_Consent": False, "Sex": "Female"}}]
    second = normalise_page(without_consent, ccr, NormaliseContext(LIST_ID, KEY, {}, {}))
    return Report.merge([first.problems, second.problems])

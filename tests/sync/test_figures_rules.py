"""The figures' rules on their own (sync/figures.py, sync/figures_store.py): the status of a
document, SEK conversion with each invoice's rate per unit rounded once at the end, the
`lastmodified` stamp in Swedish time, and the cancelled note in the portal's language. The
end-to-end tests (test_figures_e2e.py) check the same against the Fortnox sandbox's data."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from notes.services import cancelled_marker, note_body, note_has_marker, note_visible_text
from sync.figures import (
    BOOKED,
    CANCELLED,
    CREDITED,
    DRAFT,
    OVERDUE,
    PAID,
    SENT,
    UNPAID,
    document_status,
    lastmodified_stamp,
    record_object_type,
)
from sync.figures_store import figures_compute, list_digest
from sync.models import FortnoxDocument

TODAY = dt.date(2026, 11, 27)


def invoice(**fields) -> FortnoxDocument:
    values = {
        "kind": "invoice",
        "document_number": "1",
        "booked": True,
        "total": Decimal("100.00"),
        "balance": Decimal("100.00"),
        "due_date": TODAY + dt.timedelta(days=10),
        **fields,
    }
    return FortnoxDocument(**values)


def test_each_status_as_the_card_and_the_deal_property_name_it():
    assert document_status(invoice(booked=False), TODAY) == DRAFT
    assert document_status(invoice(cancelled=True, booked=False), TODAY) == CANCELLED
    assert document_status(invoice(balance=Decimal(0)), TODAY) == PAID
    assert document_status(invoice(), TODAY) == UNPAID
    assert document_status(invoice(sent=True), TODAY) == SENT
    assert document_status(invoice(due_date=TODAY - dt.timedelta(days=1)), TODAY) == OVERDUE
    # Due today is not overdue yet.
    assert document_status(invoice(due_date=TODAY), TODAY) == UNPAID
    assert document_status(invoice(credit_invoice_reference="7"), TODAY) == CREDITED
    assert document_status(invoice(credit_invoice_reference="0"), TODAY) == UNPAID
    credit_note = invoice(credit=True, credit_invoice_reference="3", balance=Decimal(-100))
    assert document_status(credit_note, TODAY) == BOOKED
    assert document_status(FortnoxDocument(kind="order", total=Decimal(5)), TODAY) == BOOKED


def test_sek_per_unit_of_each_invoice_rounded_once_at_the_end():
    docs = [
        # 0.115 SEK each: rounded one by one they would make 0.36, summed first 0.35.
        invoice(total=Decimal("0.01"), balance=Decimal("0.01"), currency="EUR",
                currency_rate=Decimal("11.5"), currency_unit=Decimal(1)),
        invoice(total=Decimal("0.01"), balance=Decimal("0.01"), currency="EUR",
                currency_rate=Decimal("11.5"), currency_unit=Decimal(1)),
        invoice(total=Decimal("0.01"), balance=Decimal("0"), currency="EUR",
                currency_rate=Decimal("11.5"), currency_unit=Decimal(1)),
        # 1000 JPY at 7.10 SEK per 100 JPY: 71 SEK.
        invoice(total=Decimal("1000"), balance=Decimal("1000"), currency="JPY",
                currency_rate=Decimal("7.10"), currency_unit=Decimal(100)),
        invoice(total=Decimal("250"), balance=Decimal("250"),
                due_date=TODAY - dt.timedelta(days=3)),
        # Not counted: a draft and a cancelled one.
        invoice(booked=False, total=Decimal(999), balance=Decimal(999)),
        invoice(cancelled=True, total=Decimal(999), balance=Decimal(999)),
    ]  # fmt: skip

    figures = figures_compute(docs, TODAY)

    assert figures.total_invoiced == Decimal("321.35")  # 0.345 + 71 + 250, half up
    assert figures.balance == Decimal("321.23")  # 0.23 + 71 + 250
    assert figures.overdue == Decimal("250.00")
    assert figures.invoice_count == 5


def test_a_credited_invoice_is_not_overdue_and_its_credit_invoice_takes_it_back():
    past = TODAY - dt.timedelta(days=5)
    docs = [
        invoice(document_number="1", due_date=past, credit_invoice_reference="2"),
        invoice(document_number="2", credit=True, credit_invoice_reference="1",
                total=Decimal(-100), balance=Decimal(-100), due_date=past),
    ]  # fmt: skip
    figures = figures_compute(docs, TODAY)
    assert (figures.total_invoiced, figures.balance, figures.overdue) == (0, 0, 0)


def test_the_list_digest_compares_a_list_item_with_the_full_document():
    listed = {"DocumentNumber": "5", "Balance": "100", "Booked": True, "CurrencyRate": "1"}
    full = {**listed, "Balance": 100.0, "CurrencyRate": 1, "InvoiceRows": [{"Price": 100}]}
    assert list_digest(listed) == list_digest(full)
    assert list_digest(listed) != list_digest({**listed, "Balance": "0"})


def test_lastmodified_is_minutes_in_swedish_time():
    winter = dt.datetime(2026, 11, 27, 22, 58, 59, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, 0, 30, tzinfo=dt.UTC)
    assert lastmodified_stamp(winter) == "2026-11-27 23:58"
    assert lastmodified_stamp(summer) == "2026-07-01 02:30"


def test_contacts_and_companies_by_hubspot_object_type_id_or_name():
    assert record_object_type("0-1") == "contacts"
    assert record_object_type("company") == "companies"
    assert record_object_type("companies") == "companies"


def test_the_cancelled_note_in_swedish_with_its_own_marker():
    data = {
        "document_label": "invoice",
        "document_number": "12",
        "document_url": "https://apps.fortnox.se/app/1/kf/invoice/12",
        "run_id": 4,
        "trigger_label": "",
        "language": "sv",
    }
    text = note_visible_text(note_body("cancelled", data))
    assert "Ekonomi makulerade faktura 12 i Fortnox." in text
    assert "Skapa igen" in text
    assert note_has_marker(note_body("cancelled", data), cancelled_marker(4, "sv"))
    # The run's own note's marker ("run 4") is not this note's: a retry never adopts it.
    success_footer = "Fortnox för HubSpot · körning 4 · Affärsfas"
    assert not note_has_marker(success_footer, cancelled_marker(4, "sv"))


def test_beat_runs_the_nightly_refresh_at_half_past_two_swedish_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sync-figures-nightly"]
    assert entry["task"] == "sync.tasks.figures_nightly_task"
    schedule = copy.copy(entry["schedule"])  # its clock is set below
    stockholm = ZoneInfo("Europe/Stockholm")
    for now in (
        dt.datetime(2026, 11, 27, 23, 0, tzinfo=stockholm),  # winter: UTC+1
        dt.datetime(2026, 7, 1, 23, 0, tzinfo=stockholm),  # summer: UTC+2
    ):
        schedule.nowfun = lambda now=now: now
        due = now + schedule.remaining_estimate(now)
        assert (due.astimezone(stockholm).hour, due.astimezone(stockholm).minute) == (2, 30)

"""How the record writes dates, times, numbers and names in Vietnamese administrative style."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

# Vietnam keeps UTC+7 all year (no daylight saving time): the council's calendar for dates and times.
VIETNAM = timezone(timedelta(hours=7), "ICT")

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def nfc(text: str) -> str:
    """Text typed on a Windows keyboard (VNI, Unikey in some modes) may arrive decomposed; print it composed."""
    return unicodedata.normalize("NFC", text).strip()


def local(moment: datetime) -> datetime:
    return moment.astimezone(VIETNAM)


def day_month(d: date) -> tuple[str, str]:
    """Decree 30/2020/NĐ-CP, Appendix I: days below 10 and the months 1 and 2 take a leading zero."""
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return day, month


def long_date(d: date) -> str:
    """Write a date as "ngày 09 tháng 12 năm 2026"."""
    day, month = day_month(d)
    return f"ngày {day} tháng {month} năm {d.year}"


def place_date(place: str, d: date) -> str:
    """Place and date, "Minh Hòa, ngày 09 tháng 12 năm 2026" (italic, under the national motto)."""
    return f"{nfc(place)}, {long_date(d)}"


def clock(moment: datetime) -> str:
    """A moment as "07 giờ 30 phút, ngày 09 tháng 12 năm 2026" in Vietnam time."""
    t = local(moment)
    return f"{t.hour:02d} giờ {t.minute:02d} phút, {long_date(t.date())}"


def short_time(moment: datetime) -> str:
    t = local(moment)
    return f"{t:%H:%M} {t.day:02d}/{t.month:02d}/{t.year}"


def percent(value: float) -> str:
    """A percentage as "92,00%": two decimals with the Vietnamese decimal comma."""
    return f"{value:.2f}".replace(".", ",") + "%"


def sentence_start(text: str) -> str:
    text = nfc(text)
    return text[:1].upper() + text[1:]


def summary_of(title: str) -> str:
    """The summary line under "NGHỊ QUYẾT" from a resolution's title: "Nghị quyết về X" -> "Về X"."""
    text = nfc(title)
    prefix = "nghị quyết "
    if text.lower().startswith(prefix):
        text = text[len(prefix) :]
    return sentence_start(text)

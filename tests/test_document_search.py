"""Diacritics-insensitive search (documents/search.py): "nghi quyet" finds "nghị quyết", đ/Đ included."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from documents.search import TextIndex, fold, has_diacritics, matches

PAGES = [
    "Hội đồng nhân dân tỉnh QUYẾT NGHỊ:\nĐiều 1. Thông qua Nghị quyết về dự toán\nngân sách địa phương.",
    "Trang hai. Đà Nẵng, Đồng Nai và Điện Biên gửi ý kiến. Nghi quyet viết không dấu.",
]


def test_fold() -> None:
    assert fold("Nghị Quyết ĐỊA PHƯƠNG") == "nghi quyet dia phuong"
    assert fold("Đồng đội") == "dong doi"  # đ/Đ: not decomposed by NFD, mapped by hand
    assert fold("Nghị quyết", keep_marks=True) == "nghị quyết"
    assert fold("nghi\u0323 quye\u0302\u0301t") == "nghi quyet"  # decomposed input (NFD) folds the same
    assert has_diacritics("nghị") and not has_diacritics("NGHI quyet")


def test_without_diacritics_finds_the_marked_text() -> None:
    ix = TextIndex(PAGES)
    hits = ix.search("nghi quyet", ignore_diacritics=True)
    # "QUYẾT NGHỊ" is not "nghị quyết"; the page-1 "Nghị quyết" and the page-2 "Nghi quyet" are.
    assert [h.page for h in hits] == [1, 2]
    assert "Nghị quyết về dự toán" in hits[0].snippet  # the snippet is the original text, marks and all
    assert [h.page for h in ix.search("da nang")] == [2]
    assert [h.page for h in ix.search("dong nai")] == [2]
    assert [h.page for h in ix.search("DIEN BIEN")] == [2]


def test_exact_marks_when_asked_or_typed() -> None:
    ix = TextIndex(PAGES)
    assert [h.page for h in ix.search("nghị quyết", ignore_diacritics=False)] == [1]
    assert [h.page for h in ix.search("nghi quyet", ignore_diacritics=False)] == [2]
    # Auto: marks in the query mean the user typed them on purpose.
    assert [h.page for h in ix.search("Nghị Quyết")] == [1]
    assert [h.page for h in ix.search("nghi quyet")] == [1, 2]


def test_line_breaks_and_spaces_do_not_matter() -> None:
    ix = TextIndex(PAGES)
    hits = ix.search("du toan   ngan sach")  # "dự toán\nngân sách" in the text
    assert [h.page for h in hits] == [1]
    assert "dự toán ngân sách" in hits[0].snippet


def test_limits_and_empty_queries() -> None:
    ix = TextIndex(["nghị quyết " * 100])
    assert len(ix.search("nghi quyet", limit=7)) == 7
    assert ix.search("   ") == []
    assert ix.search("không có") == []


def test_title_matching() -> None:
    assert matches("Dự thảo Nghị quyết về đầu tư công", "dau tu cong")
    assert not matches("Dự thảo Nghị quyết", "nghi quyet", ignore_diacritics=False)
    assert not matches("Tờ trình", "nghị quyết")


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ \n",
        max_size=60,
    )
)
def test_folding_keeps_positions(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    assert len(fold(nfc)) == len(nfc)  # one character for one character: hits map back to the original
    assert fold(fold(nfc)) == fold(nfc)


@given(
    st.lists(st.sampled_from(["nghị", "quyết", "đồng", "ý", "ngân", "sách", "Điều", "tỉnh", "Hòa"]), min_size=2),
    st.data(),
)
def test_any_phrase_of_the_text_is_found_without_its_marks(words: list[str], data: st.DataObject) -> None:
    text = " ".join(words)
    i = data.draw(st.integers(min_value=0, max_value=len(words) - 1))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(words)))
    phrase = fold(" ".join(words[i:j]))
    hits = TextIndex([text]).search(phrase, ignore_diacritics=True)
    assert hits and hits[0].page == 1

"""What the PDF checks tell people: refusals (the file is not stored) and findings (it is, with a warning).

Every message is ours, in Vietnamese and English: no text of pypdf, qpdf or zlib ever reaches a user (their wording
changes between versions, is English only, and names internals such as byte counts left to decompress).
"""

from __future__ import annotations

from typing import Any

import msgspec

REFUSALS: dict[str, tuple[str, str]] = {
    "empty_file": ("Tệp tải lên rỗng (0 byte).", "The uploaded file is empty (0 bytes)."),
    "not_pdf": (
        "Tệp không phải là PDF (không có dấu %PDF- trong 1024 byte đầu), dù tên tệp có thể là .pdf.",
        "The file is not a PDF (no %PDF- header in its first 1024 bytes), whatever its name says.",
    ),
    "truncated_pdf": (
        "Tệp PDF bị cắt cụt (không có dấu kết thúc %%EOF): việc tải lên có thể đã bị gián đoạn, vui lòng tải lại.",
        "The PDF is truncated (no %%EOF end marker): the upload was probably cut off; please upload it again.",
    ),
    "broken_xref": (
        "Bảng tham chiếu chéo (xref) của tệp PDF hỏng đến mức không trình đọc nào dựng lại được; vui lòng xuất lại "
        "tệp PDF từ phần mềm soạn thảo.",
        "The PDF's cross-reference table is damaged beyond what any reader can rebuild; please export the PDF again "
        "from the authoring software.",
    ),
    "unreadable_pdf": (
        "Không đọc được cấu trúc tệp PDF; vui lòng xuất lại tệp PDF.",
        "The PDF's structure cannot be read; please export the PDF again.",
    ),
    "damaged_pdf": (
        "Dữ liệu nén bên trong tệp PDF bị hỏng ({detail_vi}) nên trình đọc PDF không hiển thị đúng được; thường do "
        "tệp bị chuyển đổi ký tự xuống dòng khi truyền (FTP hoặc thư điện tử ở chế độ văn bản). Vui lòng gửi lại "
        "tệp gốc.",
        "Compressed data inside the PDF is damaged ({detail_en}), so no PDF reader can show it correctly; this "
        "usually comes from line endings converted in transfer (FTP or e-mail in text mode). Please send the "
        "original file again.",
    ),
    "encrypted_pdf": (
        "Tệp PDF được mã hóa hoặc đặt mật khẩu; vui lòng tải lên bản không mã hóa.",
        "The PDF is encrypted or password-protected; please upload an unencrypted copy.",
    ),
    "pdf_bomb": (
        "Tệp PDF có cấu trúc bất thường vượt giới hạn an toàn ({detail_vi}); tệp bị từ chối.",
        "The PDF's structure exceeds a safety limit ({detail_en}); the file is refused.",
    ),
    "no_pages": ("Tệp PDF không có trang nào.", "The PDF has no pages."),
}

# Active content is removed from the copies tablets receive (documents/repair.py); the messages say so.
_REMOVED_VI = "đã gỡ khỏi bản gửi máy tính bảng, bản gốc được lưu hồ sơ"
_REMOVED_EN = "removed from the copies tablets receive; the original is kept on record"
WARNINGS: dict[str, tuple[str, str]] = {
    "javascript": (
        f"Tệp PDF chứa mã JavaScript ({{where_vi}}); {_REMOVED_VI}.",
        f"The PDF contains JavaScript ({{where_en}}); {_REMOVED_EN}.",
    ),
    "open_action_javascript": (
        f"Tệp PDF tự chạy JavaScript khi mở (OpenAction); {_REMOVED_VI}.",
        f"The PDF runs JavaScript when it is opened (OpenAction); {_REMOVED_EN}.",
    ),
    "launch_action": (
        f"Tệp PDF chứa lệnh mở chương trình hoặc tệp khác (Launch, {{where_vi}}); {_REMOVED_VI}.",
        f"The PDF contains an action that launches a program or file (Launch, {{where_en}}); {_REMOVED_EN}.",
    ),
    "embedded_file": (
        f"Tệp PDF có tệp đính kèm nhúng bên trong ({{where_vi}}); {_REMOVED_VI}.",
        f"The PDF has embedded file attachments ({{where_en}}); {_REMOVED_EN}.",
    ),
    "xfa_form": (
        f"Tệp PDF chứa biểu mẫu XFA (có thể có mã lệnh); {_REMOVED_VI}.",
        f"The PDF contains an XFA form (which may carry scripts); {_REMOVED_EN}.",
    ),
    "unsafe_link": (
        f"Tệp PDF có liên kết tới địa chỉ không phải trang web (javascript:, file:…; {{where_vi}}); {_REMOVED_VI}.",
        f"The PDF links to non-web addresses (javascript:, file:…; {{where_en}}); {_REMOVED_EN}.",
    ),
    "form_submission": (
        f"Tệp PDF có lệnh gửi hoặc nhập dữ liệu biểu mẫu ({{where_vi}}); {_REMOVED_VI}.",
        f"The PDF has actions that submit or import form data ({{where_en}}); {_REMOVED_EN}.",
    ),
    "rich_media": (
        f"Tệp PDF chứa nội dung đa phương tiện (RichMedia, 3D, phim, âm thanh; {{where_vi}}); {_REMOVED_VI}.",
        f"The PDF contains rich media (RichMedia, 3D, movie or sound; {{where_en}}); {_REMOVED_EN}.",
    ),
    "repaired": (
        "Tệp PDF có lỗi mà các trình đọc PDF vẫn tự sửa được ({detail_vi}); máy tính bảng nhận bản đã sửa, bản gốc "
        "được lưu hồ sơ.",
        "The PDF has defects that PDF readers repair ({detail_en}); tablets receive the repaired copy, the original "
        "is kept on record.",
    ),
    "text_incomplete": (
        "Không trích xuất được toàn bộ văn bản để tìm kiếm ({detail_vi}); tài liệu vẫn được phát hành.",
        "Not all text could be extracted for search ({detail_en}); the document is still published.",
    ),
}

# In the order they are reported; meeting/documents.py accepts exactly these in `active_content`.
ACTIVE_CONTENT = (
    "javascript",
    "open_action_javascript",
    "launch_action",
    "embedded_file",
    "xfa_form",
    "unsafe_link",
    "form_submission",
    "rich_media",
)


class PdfRefused(Exception):
    """The file must not be stored: `code` is stable, the messages are for people."""

    def __init__(self, code: str, **params: Any) -> None:
        vi, en = REFUSALS[code]
        self.code = code
        self.message_vi = vi.format(**params)
        self.message_en = en.format(**params)
        super().__init__(f"{code}: {self.message_en}")


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """Something the uploader should know about a file that was accepted."""

    code: str
    message_vi: str
    message_en: str


def finding(code: str, **params: Any) -> Finding:
    vi, en = WARNINGS[code]
    return Finding(code=code, message_vi=vi.format(**params), message_en=en.format(**params))

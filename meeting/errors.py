"""Typed refusals: a stable code plus a message in Vietnamese and English.

A refusal is a normal outcome of `decide`, not a crash: the transport sends it back to the one client that
asked, and nothing else changes. Codes are stable strings (clients switch on them); the messages are for
people and may be reworded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec


class Code(StrEnum):
    # --- who may do what
    FORBIDDEN = "forbidden"
    NOT_A_DELEGATE = "not_a_delegate"
    NOT_YOURSELF = "not_yourself"
    # --- unknown ids
    UNKNOWN_COUNCIL = "unknown_council"
    UNKNOWN_TERM = "unknown_term"
    UNKNOWN_DELEGATE = "unknown_delegate"
    UNKNOWN_RESPONDENT = "unknown_respondent"
    UNKNOWN_SESSION = "unknown_session"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_REQUEST = "unknown_request"
    UNKNOWN_QUESTION = "unknown_question"
    UNKNOWN_ROUND = "unknown_round"
    UNKNOWN_OPTION = "unknown_option"
    UNKNOWN_POLL = "unknown_poll"
    UNKNOWN_OFFICIAL = "unknown_official"
    DUPLICATE_ID = "duplicate_id"
    # --- bad values
    INVALID = "invalid"
    # --- council and roster
    COUNCIL_EXISTS = "council_exists"
    NO_OPEN_TERM = "no_open_term"
    SEAT_VACANT = "seat_vacant"
    # --- session lifecycle and attendance
    SESSION_EXISTS = "session_exists"
    WRONG_SESSION_STATE = "wrong_session_state"
    NO_QUORUM = "no_quorum"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_CHECKED_IN = "not_checked_in"
    # --- agenda
    ITEM_CLOSED = "item_closed"
    NO_CURRENT_ITEM = "no_current_item"
    ITEM_IN_USE = "item_in_use"
    # --- speakers and questioning
    ALREADY_REQUESTED = "already_requested"
    SPEECH_IN_PROGRESS = "speech_in_progress"
    NO_SPEECH = "no_speech"
    WRONG_QUESTION_STATE = "wrong_question_state"
    # --- votes and polls
    ROUND_OPEN_ON_ITEM = "round_open_on_item"
    ROUND_NOT_OPEN = "round_not_open"
    ROUND_NOT_PAPER = "round_not_paper"
    ALREADY_VOTED = "already_voted"
    NOT_ELIGIBLE = "not_eligible"
    ABSENT = "absent"
    COUNTS_INVALID = "counts_invalid"
    POLL_NOT_OPEN = "poll_not_open"
    COMMITTEE_TOO_SMALL = "committee_too_small"
    COMMITTEE_ON_BALLOT = "committee_on_ballot"
    COMMITTEE_MISSING = "committee_missing"
    NOT_ON_COMMITTEE = "not_on_committee"
    ALREADY_CERTIFIED = "already_certified"
    NOT_CERTIFIED = "not_certified"
    # --- resolutions
    NOT_PASSED = "not_passed"
    ALREADY_NUMBERED = "already_numbered"
    # --- votes (meeting/votes.py)
    ROUND_IS_PAPER = "round_is_paper"
    # --- live ballot counts (meeting/votes.py, meeting/polls.py)
    PROGRESS_UNCHANGED = "progress_unchanged"
    # --- speakers (meeting/speakers.py)
    ITEM_NOT_CURRENT = "item_not_current"
    # --- polls (meeting/polls.py)
    WRONG_POLL_STATE = "wrong_poll_state"
    # --- documents (meeting/documents.py)
    UNKNOWN_DOCUMENT = "unknown_document"
    UNKNOWN_DOCUMENT_VERSION = "unknown_document_version"
    DOCUMENT_WITHDRAWN = "document_withdrawn"
    WRONG_DOCUMENT_VERSION = "wrong_document_version"
    SECRET_DOCUMENT = "secret_document"
    DOCUMENT_NOT_SENT = "document_not_sent"
    # --- outcomes that must be legally right (issue 10 §1, issue 9 §4)
    NO_QUORUM_TO_VOTE = "no_quorum_to_vote"
    RULE_NOT_ALLOWED = "rule_not_allowed"
    NOT_A_RESOLUTION = "not_a_resolution"
    FEW_BALLOTS = "few_ballots"
    ROUND_NOT_COUNTED = "round_not_counted"
    ROUND_NO_RESULT = "round_no_result"
    ALREADY_ANNOUNCED = "already_announced"
    # --- verifiable secret ballots (meeting/verifiable.py, issue 13)
    UNKNOWN_CEREMONY = "unknown_ceremony"
    CEREMONY_STEP = "ceremony_step"
    CEREMONY_INVALID = "ceremony_invalid"
    WRONG_BALLOT_MODE = "wrong_ballot_mode"
    WRONG_POLL_MODE = "wrong_poll_mode"
    BALLOT_PROOF_INVALID = "ballot_proof_invalid"
    BALLOT_DUPLICATE = "ballot_duplicate"
    PARTIAL_INVALID = "partial_invalid"
    BOARD_NOT_PUBLISHED = "board_not_published"
    VACANCY_UNFOUNDED = "vacancy_unfounded"
    # --- between sessions: petitions, commitments, conclusions (meeting/petitions.py, issue 14)
    UNKNOWN_PETITIONS = "unknown_petitions"
    PETITIONS_EXIST = "petitions_exist"
    UNKNOWN_TRACKED_ITEM = "unknown_tracked_item"
    UNKNOWN_VOTER_MEETING = "unknown_voter_meeting"
    UNKNOWN_DELEGATE_GROUP = "unknown_delegate_group"
    UNKNOWN_AGENCY = "unknown_agency"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_SUPERVISION = "unknown_supervision"
    WRONG_ITEM_STATE = "wrong_item_state"
    NOT_IN_GROUP = "not_in_group"
    NOT_OVERDUE = "not_overdue"
    IN_USE = "in_use"
    NO_REMINDER_DUE = "no_reminder_due"


# Templates use str.format with the keyword arguments given to DomainError.
MESSAGES: dict[Code, tuple[str, str]] = {
    Code.FORBIDDEN: ("Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."),
    Code.NOT_A_DELEGATE: (
        "Chỉ đại biểu đang giữ ghế mới được thực hiện thao tác này.",
        "Only a seated delegate may do this.",
    ),
    Code.NOT_YOURSELF: (
        "Đại biểu chỉ được thao tác cho chính mình.",
        "A delegate may act only as themself.",
    ),
    Code.UNKNOWN_COUNCIL: ("Không tìm thấy Hội đồng nhân dân {id}.", "Unknown council {id}."),
    Code.UNKNOWN_TERM: ("Không tìm thấy nhiệm kỳ {id}.", "Unknown term {id}."),
    Code.UNKNOWN_DELEGATE: ("Không tìm thấy đại biểu {id}.", "Unknown delegate {id}."),
    Code.UNKNOWN_RESPONDENT: ("Không tìm thấy người trả lời chất vấn {id}.", "Unknown respondent {id}."),
    Code.UNKNOWN_SESSION: ("Không tìm thấy kỳ họp {id}.", "Unknown session {id}."),
    Code.UNKNOWN_ITEM: ("Không tìm thấy nội dung chương trình {id}.", "Unknown agenda item {id}."),
    Code.UNKNOWN_REQUEST: ("Không tìm thấy đăng ký phát biểu {id}.", "Unknown speaking request {id}."),
    Code.UNKNOWN_QUESTION: ("Không tìm thấy câu hỏi chất vấn {id}.", "Unknown question {id}."),
    Code.UNKNOWN_ROUND: ("Không tìm thấy lượt biểu quyết {id}.", "Unknown vote round {id}."),
    Code.UNKNOWN_OPTION: (
        "Phương án {option} không có trong phiếu.",
        "Option {option} is not on the ballot.",
    ),
    Code.UNKNOWN_POLL: ("Không tìm thấy cuộc lấy phiếu tín nhiệm {id}.", "Unknown confidence poll {id}."),
    Code.UNKNOWN_OFFICIAL: (
        "Người {id} không có tên trong phiếu tín nhiệm.",
        "Official {id} is not on the ballot.",
    ),
    Code.DUPLICATE_ID: ("Mã {id} đã được dùng.", "The id {id} is already in use."),
    Code.INVALID: ("Dữ liệu không hợp lệ: {reason_vi}.", "Invalid input: {reason_en}."),
    Code.COUNCIL_EXISTS: ("Hội đồng nhân dân đã được tạo.", "The council already exists."),
    Code.NO_OPEN_TERM: ("Hội đồng chưa có nhiệm kỳ đang diễn ra.", "The council has no current term."),
    Code.SEAT_VACANT: ("Đại biểu {id} không còn giữ ghế.", "Delegate {id} no longer holds a seat."),
    Code.SESSION_EXISTS: ("Kỳ họp đã được chuẩn bị.", "The session is already prepared."),
    Code.WRONG_SESSION_STATE: (
        "Không thể thực hiện khi kỳ họp đang ở trạng thái «{state_vi}».",
        "Not possible while the session is {state_en}.",
    ),
    Code.NO_QUORUM: (
        "Chưa đủ số đại biểu để khai mạc: có mặt {present}/{total}, cần ít nhất {needed}.",
        "No quorum: {present} of {total} present, at least {needed} needed.",
    ),
    Code.ALREADY_CHECKED_IN: ("Đại biểu {id} đã điểm danh.", "Delegate {id} has already checked in."),
    Code.NOT_CHECKED_IN: ("Đại biểu {id} chưa điểm danh.", "Delegate {id} has not checked in."),
    Code.ITEM_CLOSED: ("Nội dung {id} đã kết thúc.", "Agenda item {id} is closed."),
    Code.NO_CURRENT_ITEM: ("Chưa có nội dung nào đang được xem xét.", "No agenda item is current."),
    Code.ITEM_IN_USE: (
        "Nội dung {id} đã có {what_vi}: không thể xóa hay đổi loại, chỉ sửa được tên.",
        "Item {id} already has {what_en}: it cannot be removed or change kind, only be retitled.",
    ),
    Code.ALREADY_REQUESTED: ("Đại biểu đã đăng ký rồi.", "The delegate has already made this request."),
    Code.SPEECH_IN_PROGRESS: ("Đang có người phát biểu.", "Someone is already speaking."),
    Code.NO_SPEECH: ("Không có ai đang phát biểu.", "Nobody is speaking."),
    Code.WRONG_QUESTION_STATE: (
        "Câu hỏi {id} đang ở trạng thái «{state_vi}», không thể thực hiện.",
        "Question {id} is {state_en}; not possible now.",
    ),
    Code.ROUND_OPEN_ON_ITEM: (
        "Đang có lượt biểu quyết mở cho nội dung này.",
        "A vote round is already open on this item.",
    ),
    Code.ROUND_NOT_OPEN: ("Lượt biểu quyết {id} không mở.", "Vote round {id} is not open."),
    Code.ROUND_NOT_PAPER: (
        "Lượt biểu quyết {id} không phải bỏ phiếu giấy.",
        "Vote round {id} is not a paper ballot.",
    ),
    Code.ALREADY_VOTED: (
        "Đại biểu đã biểu quyết, không được biểu quyết lại.",
        "The delegate has already voted; a ballot cannot be changed.",
    ),
    Code.NOT_ELIGIBLE: (
        "Đại biểu {id} không có quyền biểu quyết trong lượt này.",
        "Delegate {id} is not eligible in this round.",
    ),
    Code.ABSENT: (
        "Đại biểu {id} chưa điểm danh có mặt nên chưa thể biểu quyết.",
        "Delegate {id} is not checked in and cannot vote.",
    ),
    Code.COUNTS_INVALID: ("Số phiếu không hợp lệ: {reason_vi}.", "Invalid counts: {reason_en}."),
    Code.POLL_NOT_OPEN: ("Cuộc lấy phiếu {id} không mở.", "Poll {id} is not open."),
    Code.COMMITTEE_TOO_SMALL: (
        "Ban kiểm phiếu cần ít nhất {needed} thành viên, mới có {size}.",
        "The counting committee needs at least {needed} members, has {size}.",
    ),
    Code.COMMITTEE_ON_BALLOT: (
        "Thành viên Ban kiểm phiếu {id} có tên trong phiếu.",
        "Counting committee member {id} is on the ballot.",
    ),
    Code.COMMITTEE_MISSING: ("Chưa bầu Ban kiểm phiếu.", "No counting committee has been appointed."),
    Code.NOT_ON_COMMITTEE: (
        "{id} không phải thành viên Ban kiểm phiếu.",
        "{id} is not on the counting committee.",
    ),
    Code.ALREADY_CERTIFIED: ("Kết quả đã được xác nhận.", "The result is already certified."),
    Code.NOT_CERTIFIED: (
        "Kết quả chưa được Ban kiểm phiếu xác nhận.",
        "The result has not been certified by the counting committee.",
    ),
    Code.NOT_PASSED: ("Lượt biểu quyết {id} không được thông qua.", "Vote round {id} did not pass."),
    Code.ALREADY_NUMBERED: (
        "Lượt biểu quyết {id} đã có số nghị quyết.",
        "Vote round {id} already has a resolution number.",
    ),
    # --- votes (meeting/votes.py)
    Code.ROUND_IS_PAPER: (
        "Lượt biểu quyết {id} bỏ phiếu giấy: không nhận phiếu điện tử, kết quả do Văn phòng nhập sau khi kiểm phiếu.",
        "Vote round {id} uses paper ballots: no electronic ballots; the secretariat enters the counted result.",
    ),
    # --- live ballot counts (meeting/votes.py, meeting/polls.py)
    Code.PROGRESS_UNCHANGED: (
        "Số phiếu đã bỏ của {id} vẫn là {count}, chưa thay đổi kể từ lần cập nhật trước.",
        "Ballots cast in {id} are still {count}; nothing changed since the last update.",
    ),
    # --- speakers (meeting/speakers.py)
    Code.ITEM_NOT_CURRENT: (
        "Nội dung {id} không phải nội dung đang được xem xét.",
        "Agenda item {id} is not the current item.",
    ),
    # --- polls (meeting/polls.py)
    Code.WRONG_POLL_STATE: (
        "Cuộc lấy phiếu {id} đang ở trạng thái «{state_vi}», không thể thực hiện.",
        "Poll {id} is {state_en}; not possible now.",
    ),
    # --- documents (meeting/documents.py)
    Code.UNKNOWN_DOCUMENT: ("Không tìm thấy tài liệu {id}.", "Unknown document {id}."),
    Code.UNKNOWN_DOCUMENT_VERSION: (
        "Tài liệu {id} không có phiên bản {version}.",
        "Document {id} has no version {version}.",
    ),
    Code.DOCUMENT_WITHDRAWN: ("Tài liệu {id} đã bị thu hồi.", "Document {id} has been withdrawn."),
    Code.WRONG_DOCUMENT_VERSION: (
        "Phiên bản mới của tài liệu {id} phải là phiên bản {expected}.",
        "The new version of document {id} must be version {expected}.",
    ),
    Code.SECRET_DOCUMENT: (
        "Tài liệu {id} là tài liệu mật: không gửi đến máy tính bảng, chỉ đọc tại phòng đọc tài liệu mật "
        "(Luật Bảo vệ bí mật nhà nước số 29/2018/QH14, Điều 5).",
        "Document {id} is a state secret: it is never sent to a tablet; read it in the reading room "
        "(Law 29/2018/QH14 on the Protection of State Secrets, art. 5).",
    ),
    Code.DOCUMENT_NOT_SENT: (
        "Tài liệu {id} (phiên bản {version}) chưa được gửi đến máy tính bảng của đại biểu.",
        "Document {id} version {version} has not been sent to this delegate's tablet.",
    ),
    # --- outcomes that must be legally right (issue 10 §1, issue 9 §4)
    Code.NO_QUORUM_TO_VOTE: (
        "Chưa đủ số đại biểu có mặt để biểu quyết: có mặt {present}/{total}, cần ít nhất {needed}.",
        "No quorum to vote: {present} of {total} present, at least {needed} needed.",
    ),
    Code.RULE_NOT_ALLOWED: (
        "Không thể {kind_vi} với quy tắc «{rule_vi}»; được dùng: {allowed} "
        "(Luật Tổ chức chính quyền địa phương số 77/2015/QH13, Điều 91 khoản 3).",
        "A {kind_en} vote cannot pass by {rule_en}; allowed: {allowed} "
        "(Law on Local Government 77/2015/QH13 art. 91(3)).",
    ),
    Code.NOT_A_RESOLUTION: (
        "Lượt biểu quyết {id} là biểu quyết thủ tục hoặc dùng quy tắc không đủ để thành nghị quyết, không được ghi số.",
        "Vote round {id} is procedural or passed by a rule too weak for a resolution; it cannot be numbered.",
    ),
    Code.FEW_BALLOTS: (
        "Lượt bỏ phiếu kín {id} mới có {count} phiếu, ít hơn {minimum}: công bố kết quả có thể làm lộ lựa chọn "
        "của người đã bỏ phiếu. Chủ tọa cần xác nhận để kết thúc.",
        "Secret round {id} has only {count} ballots, fewer than {minimum}: its result may reveal how they voted. "
        "The chair must confirm to close it.",
    ),
    Code.UNKNOWN_CEREMONY: ("Không tìm thấy phiên tạo khóa {id}.", "Unknown key ceremony {id}."),
    Code.CEREMONY_STEP: (
        "Phiên tạo khóa {id}: không thể gửi bước {step} lúc này ({reason_vi}).",
        "Key ceremony {id}: step {step} is not possible now ({reason_en}).",
    ),
    Code.CEREMONY_INVALID: (
        "Phiên tạo khóa {id} không hợp lệ: {reason_vi} ({detail}).",
        "Key ceremony {id} is invalid: {reason_en} ({detail}).",
    ),
    Code.WRONG_BALLOT_MODE: (
        "Lượt biểu quyết {id} {expected_vi}.",
        "Vote round {id} {expected_en}.",
    ),
    Code.WRONG_POLL_MODE: (
        "Cuộc lấy phiếu tín nhiệm {id} {expected_vi}.",
        "Confidence poll {id} {expected_en}.",
    ),
    Code.BALLOT_PROOF_INVALID: (
        "Phiếu mã hóa không hợp lệ, không được ghi nhận: {reason_vi} ({detail}).",
        "The encrypted ballot is invalid and was not recorded: {reason_en} ({detail}).",
    ),
    Code.BALLOT_DUPLICATE: (
        "Phiếu trùng với một phiếu đã bỏ (mã theo dõi {tracker}); không được ghi nhận.",
        "The ballot repeats one already cast (tracker {tracker}); not recorded.",
    ),
    Code.PARTIAL_INVALID: (
        "Phần giải mã của thành viên {member} không hợp lệ: {reason_vi} ({detail}).",
        "The partial decryption of member {member} is invalid: {reason_en} ({detail}).",
    ),
    Code.BOARD_NOT_PUBLISHED: (
        "Bảng công khai của lượt biểu quyết {id} chỉ được công bố sau khi có kết quả.",
        "The bulletin board of vote round {id} is published once its result is announced.",
    ),
    Code.ROUND_NOT_COUNTED: (
        "Lượt biểu quyết {id} không có kết quả kiểm phiếu chờ xác nhận.",
        "Vote round {id} has no count awaiting certification.",
    ),
    Code.ROUND_NO_RESULT: (
        "Lượt biểu quyết {id} chưa kết thúc hoặc chưa có kết quả để công bố.",
        "Vote round {id} is not closed or has no result to announce yet.",
    ),
    Code.ALREADY_ANNOUNCED: (
        "Kết quả lượt biểu quyết {id} đã được công bố.",
        "The result of vote round {id} has already been announced.",
    ),
    Code.VACANCY_UNFOUNDED: (
        "Chưa đủ căn cứ để đại biểu {id} thôi giữ ghế: {reason_vi}.",
        "No grounds to vacate the seat of {id}: {reason_en}.",
    ),
    # --- between sessions (meeting/petitions.py, issue 14)
    Code.UNKNOWN_PETITIONS: (
        "Chưa mở sổ theo dõi kiến nghị cử tri {id}.",
        "No petitions register {id} has been opened.",
    ),
    Code.PETITIONS_EXIST: (
        "Sổ theo dõi kiến nghị cử tri của nhiệm kỳ này đã được mở.",
        "The petitions register of this term is already open.",
    ),
    Code.UNKNOWN_TRACKED_ITEM: (
        "Không tìm thấy kiến nghị, cam kết hoặc kết luận {id}.",
        "Unknown petition, commitment or conclusion {id}.",
    ),
    Code.UNKNOWN_VOTER_MEETING: ("Không tìm thấy buổi tiếp xúc cử tri {id}.", "Unknown voter meeting {id}."),
    Code.UNKNOWN_DELEGATE_GROUP: ("Không tìm thấy Tổ đại biểu {id}.", "Unknown delegate group {id}."),
    Code.UNKNOWN_AGENCY: ("Không tìm thấy cơ quan {id} trong danh sách.", "Agency {id} is not on the list."),
    Code.UNKNOWN_FIELD: ("Không tìm thấy lĩnh vực {id} trong danh sách.", "Field {id} is not on the list."),
    Code.UNKNOWN_SUPERVISION: ("Không tìm thấy cuộc giám sát {id}.", "Unknown supervision {id}."),
    Code.WRONG_ITEM_STATE: (
        "{id} đang ở trạng thái «{state_vi}», không thể thực hiện.",
        "{id} is {state_en}; not possible now.",
    ),
    Code.NOT_IN_GROUP: ("{id} không thuộc Tổ đại biểu {group}.", "{id} is not a member of delegate group {group}."),
    Code.NOT_OVERDUE: (
        "{id} chưa quá hạn {due}, hoặc việc quá hạn đã được ghi nhận.",
        "{id} is not past its deadline {due}, or that was already recorded.",
    ),
    Code.IN_USE: (
        "{what_vi} {id} đang được sử dụng, không thể bỏ khỏi danh sách.",
        "{what_en} {id} is in use and cannot be taken off the list.",
    ),
    Code.NO_REMINDER_DUE: (
        "Chưa đến lúc nhắc hạn {id} ({due}), hoặc đã nhắc rồi.",
        "{id} is not due for a reminder ({due}), or was reminded already.",
    ),
}


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """What a client gets back when a command is refused. Nothing changed."""

    code: Code
    message_vi: str
    message_en: str


class DomainError(Exception):
    """Raised inside `decide`; turned into a `Refusal` at the edge of the domain."""

    def __init__(self, code: Code, **params: Any) -> None:
        vi, en = MESSAGES[code]
        self.refusal = Refusal(code=code, message_vi=vi.format(**params), message_en=en.format(**params))
        super().__init__(f"{code}: {self.refusal.message_en}")

    @property
    def code(self) -> Code:
        return self.refusal.code


def invalid(reason_vi: str, reason_en: str) -> DomainError:
    return DomainError(Code.INVALID, reason_vi=reason_vi, reason_en=reason_en)

"""A council's rules: every number the law fixes by default, configurable per council.

Thresholds are compared in integers (count * den against num * base) so that "more than half of 50" is
exactly 26 and "two thirds of 50" is exactly 34, with no floating-point edge at the boundary.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Base(StrEnum):
    ALL_DELEGATES = "all_delegates"  # tổng số đại biểu (seated delegates)
    BALLOTS_COLLECTED = "ballots_collected"  # tổng số phiếu thu về
    PRESENT = "present"  # đại biểu có mặt


class Threshold(msgspec.Struct, frozen=True, kw_only=True):
    """`count` meets the threshold when count/base > num/den (strict) or >= num/den (not strict)."""

    num: int
    den: int
    strict: bool
    base: Base = Base.ALL_DELEGATES

    def met(self, count: int, base_size: int) -> bool:
        if base_size <= 0:
            return False
        lhs, rhs = count * self.den, self.num * base_size
        return lhs > rhs if self.strict else lhs >= rhs

    def minimum(self, base_size: int) -> int:
        """The smallest count that meets the threshold for this base (e.g. 26 of 50 for > 1/2)."""
        q, r = divmod(self.num * base_size, self.den)
        if self.strict:
            return q + 1
        return q + (1 if r else 0)

    def describe_vi(self) -> str:
        base = {
            Base.ALL_DELEGATES: "tổng số đại biểu",
            Base.BALLOTS_COLLECTED: "tổng số phiếu thu về",
            Base.PRESENT: "số đại biểu có mặt",
        }[self.base]
        frac = (
            "quá nửa"
            if (self.num, self.den, self.strict) == (1, 2, True)
            else (f"{'trên' if self.strict else 'ít nhất'} {self.num}/{self.den}")
        )
        return f"{frac} {base}"


# Law on Local Government 77/2015/QH13 art. 91(3): a resolution needs more than half of all delegates.
MORE_THAN_HALF_OF_ALL = Threshold(num=1, den=2, strict=True)
# Art. 91(3), 102(3): removing a delegate (bãi nhiệm) needs at least two thirds of all delegates.
TWO_THIRDS_OF_ALL = Threshold(num=2, den=3, strict=False)
MORE_THAN_HALF_OF_BALLOTS = Threshold(num=1, den=2, strict=True, base=Base.BALLOTS_COLLECTED)


class PassRule(StrEnum):
    MAJORITY_OF_ALL = "majority_of_all"
    TWO_THIRDS_OF_ALL = "two_thirds_of_all"
    MAJORITY_OF_BALLOTS = "majority_of_ballots"

    @property
    def threshold(self) -> Threshold:
        return {
            PassRule.MAJORITY_OF_ALL: MORE_THAN_HALF_OF_ALL,
            PassRule.TWO_THIRDS_OF_ALL: TWO_THIRDS_OF_ALL,
            PassRule.MAJORITY_OF_BALLOTS: MORE_THAN_HALF_OF_BALLOTS,
        }[self]


class VoteKind(StrEnum):
    """What a vote round decides, and so which pass rules the law allows and whether it yields a resolution."""

    RESOLUTION = "resolution"  # thông qua nghị quyết
    REMOVAL = "removal"  # bãi nhiệm đại biểu HĐND
    PROCEDURAL = "procedural"  # biểu quyết về thủ tục (chương trình, cách thức biểu quyết...)

    @property
    def label_vi(self) -> str:
        return _KIND_VI[self]

    @property
    def allowed_rules(self) -> tuple[PassRule, ...]:
        """Law 77/2015/QH13 art. 91(3): a resolution needs more than half of ALL delegates (a council may ask
        for more, never a smaller base); removing a delegate needs two thirds of all (art. 91(3), 102(3)).
        Another base (ballots collected) may serve a procedural vote only, which is never numbered."""
        return _ALLOWED[self]

    @property
    def numbered(self) -> bool:
        """A passed round of this kind is a resolution of the council and takes a number (NQ-HĐND)."""
        return self is not VoteKind.PROCEDURAL


_KIND_VI = {
    VoteKind.RESOLUTION: "thông qua nghị quyết",
    VoteKind.REMOVAL: "bãi nhiệm đại biểu",
    VoteKind.PROCEDURAL: "biểu quyết thủ tục",
}
_ALLOWED: dict[VoteKind, tuple[PassRule, ...]] = {
    VoteKind.RESOLUTION: (PassRule.MAJORITY_OF_ALL, PassRule.TWO_THIRDS_OF_ALL),
    VoteKind.REMOVAL: (PassRule.TWO_THIRDS_OF_ALL,),
    VoteKind.PROCEDURAL: tuple(PassRule),
}


class Level(StrEnum):
    PROVINCE = "province"  # cấp tỉnh
    COMMUNE = "commune"  # cấp xã


class Numbering(StrEnum):
    PER_YEAR = "per_year"
    PER_TERM = "per_term"


class BallotMode(StrEnum):
    """How a secret vote round keeps its ballots (issue 13)."""

    SEALED = "sealed"  # the server counts choices under its key (server/sealing.py)
    VERIFIABLE = "verifiable"  # the tablet encrypts; the committee decrypts only the total (meeting/verifiable.py)


class BallotOption(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str


DEFAULT_OPTIONS: tuple[BallotOption, ...] = (
    BallotOption(key="yes", label="Tán thành"),
    BallotOption(key="no", label="Không tán thành"),
    BallotOption(key="abstain", label="Không biểu quyết"),
)


class Rules(msgspec.Struct, frozen=True, kw_only=True):
    # Practice: at least 2/3 of all delegates present to proceed.
    quorum: Threshold = Threshold(num=2, den=3, strict=False)
    default_pass_rule: PassRule = PassRule.MAJORITY_OF_ALL
    # Option labels for an ordinary vote; the first option is the one that passes a motion.
    options: tuple[BallotOption, ...] = DEFAULT_OPTIONS
    # Only delegates checked in when a round opens (or who check in while it is open) may vote.
    presence_required: bool = True
    speech_seconds: int = 300
    question_seconds: int = 60  # chất vấn: question 1 min
    answer_seconds: int = 180  # answer 3 min
    rebuttal_seconds: int = 120
    # Guidance 883/HD-UBTVQH14: >= 7 members in a province, >= 3 in a commune. Set by `rules_for`.
    committee_min: int = 7
    # NQ 96/2023/QH15: percentages over ballots collected (NQ 85/2014 used all delegates).
    poll_base: Base = Base.BALLOTS_COLLECTED
    # NQ 96/2023/QH15: more than half "không tín nhiệm" of all delegates -> dismissal proposed.
    confidence_vote_base: Base = Base.ALL_DELEGATES
    numbering: Numbering = Numbering.PER_YEAR
    # Practice: a vote is held only while the quorum above is present (29 of 50 present may not vote; a session
    # opened with 34 present may have thinned out by the time a vote opens).
    vote_quorum_required: bool = True
    # MISSION: the counting committee (Ban kiểm phiếu) certifies every secret ballot's result before it is
    # announced — secret vote rounds as well as confidence polls.
    secret_certification: bool = True
    # A secret round closed with fewer ballots than this is refused unless the chair confirms (issue 9 §4): with
    # 1 ballot the result is that ballot, with 2 each voter learns the other's. 5 is the upper end of the
    # "at least 3–5 contributors per published figure" rule of statistical disclosure control; a normal round
    # has far more (a commune council of 15 needs 10 present to sit), so the warning only fires when most of
    # the hall did not vote. 0 or 1 turns it off.
    secret_min_ballots: int = 5
    # How a secret vote round or confidence poll is counted when the chair does not say (issue 13 §2):
    # "verifiable" (the tablet encrypts, the counting committee decrypts only the total, meeting/verifiable.py) or
    # "sealed" (the server counts under its own key, server/sealing.py). Verifiable by default: with the sealed
    # key on the same disk an operator linked 31–47 of 50 delegates to their choices from a copy of the database
    # (issue 13), while verifiable ballots need t of the n committee members' shares to open even the total.
    # A council whose committee has no devices (a small commune) sets "sealed" (`change_rules`).
    secret_mode: BallotMode = BallotMode.VERIFIABLE
    # Issuing body abbreviation in resolution numbers: 06/2026/NQ-HĐND.
    issuer_code: str = "HĐND"


def rules_for(level: Level) -> Rules:
    return Rules(committee_min=7 if level is Level.PROVINCE else 3)

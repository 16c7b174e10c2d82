"""Signing the record's PDFs with the chair's certificate: PAdES baseline B-B, through pyHanko.

Only when the deployment configures a key and certificate (server/config.py `KYHOP_SIGNING_*`). The chair signs
the resolutions ("TM. HỘI ĐỒNG NHÂN DÂN / CHỦ TỊCH") and the minutes; a count record is signed by the counting
committee, whose members hold no certificate here, so it stays unsigned.

The signature is an incremental update: the signed file is the unsigned PDF, byte for byte, followed by the
signature's objects. So the unsigned PDF stays byte-stable (same inputs, same bytes) and its SHA-256 is recorded in
the archive beside the signed copy's; the signed copy itself differs on every signing — it carries the signing
time, and pyHanko gives the updated file a fresh random second /ID (ISO 32000 §14.4: a changed file gets a new
ID) — so an archive with signed PDFs is byte-stable only up to those parts. B-B carries no trusted time (that
needs a timestamp authority, which a council's hall network may not reach); B-T/LT are a configuration away.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The signature field's name; a reader lists it under the signatures panel.
FIELD = "ChuKyChuToa"


class SigningMisconfigured(RuntimeError):
    """The configured key or certificate cannot be read (a deployment fault, said at start-up)."""


@dataclass(frozen=True)
class PdfSigner:
    signer: Any  # pyhanko.sign.signers.SimpleSigner
    subject: str  # the certificate's subject, for the archive's signatures.json
    location: str = ""

    @classmethod
    def load(
        cls,
        key: Path,
        cert: Path,
        chain: Path | None = None,
        passphrase: str | None = None,
        location: str = "",
    ) -> PdfSigner:
        from pyhanko.sign import signers  # imported only when signing is configured

        signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(key),
            str(cert),
            ca_chain_files=(str(chain),) if chain else None,
            key_passphrase=passphrase.encode() if passphrase else None,
        )
        if signer is None or signer.signing_cert is None:
            raise SigningMisconfigured(
                f"không đọc được khóa hoặc chứng thư số / cannot read the signing key or certificate ({key}, {cert})"
            )
        return cls(signer=signer, subject=signer.signing_cert.subject.human_friendly, location=location)

    def sign(self, pdf: bytes, reason: str) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=self.location or None,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = signers.PdfSigner(meta, signer=self.signer).sign_pdf(writer)
        data: bytes = out.getvalue()
        return data


class SignedPart:
    """What the archive records of a signed PDF: the unsigned file it extends (its length and SHA-256)."""

    @staticmethod
    def entry(path: str, unsigned: bytes, signer: str) -> dict[str, Any]:
        return {
            "path": path,
            "unsigned_size": len(unsigned),
            "unsigned_sha256": hashlib.sha256(unsigned).hexdigest(),
            "signer": signer,
        }


def check_signature(pdf: bytes) -> tuple[bool, str]:
    """Offline: is the PDF's one signature intact and cryptographically valid, and does it cover the whole file?
    Returns (ok, signer subject or the reason). Trust in the signer's certificate is the reader's to decide: an
    archive carries no trust roots."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    sigs = reader.embedded_signatures
    if len(sigs) != 1:
        return False, f"{len(sigs)} signatures, expected 1"
    sig = sigs[0]
    # No trust roots and no revocation fetching: only the integrity and the signature's mathematics are checked.
    status = validate_pdf_signature(
        sig, ValidationContext(trust_roots=[], allow_fetching=False, revocation_mode="soft-fail")
    )
    subject = sig.signer_cert.subject.human_friendly
    if not (status.intact and status.valid):
        return False, f"signature by {subject} is broken (intact={status.intact}, valid={status.valid})"
    if sig.coverage is None or sig.coverage.name != "ENTIRE_FILE":
        return False, f"signature by {subject} does not cover the whole file ({sig.coverage})"
    return True, subject

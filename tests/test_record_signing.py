"""PAdES signing of the record's PDFs with the chair's certificate (record/signing.py), with a certificate the test
makes itself; pyHanko's own validation checks the result, and `verify_archive` checks it offline."""

from __future__ import annotations

import functools
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from record import archive as ar
from record.signing import PdfSigner
from server.config import load_settings
from server.record_service import load_signer
from tests.test_record_archive import files, first_problem, rezip, sources

CHAIR = "Nguyễn Minh Bình"


USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
)  # fmt: skip


@functools.cache
def chair_certificate(folder: Path) -> tuple[Path, Path, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CHAIR),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hội đồng nhân dân tỉnh Minh Hòa"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / "chu-tich.key", folder / "chu-tich.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"mat-khau-khoa"),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path, cert


def _signer(tmp_path: Path) -> tuple[PdfSigner, x509.Certificate]:
    key, cert, c = chair_certificate(tmp_path / "pki")
    env = {"KYHOP_DATA_DIR": str(tmp_path / "var"), "KYHOP_SIGNING_KEY": str(key), "KYHOP_SIGNING_CERT": str(cert)}
    env["KYHOP_SIGNING_PASSPHRASE"] = "mat-khau-khoa"
    signer = load_signer(load_settings(env))
    assert signer is not None
    return signer, c


def test_no_certificate_configured_means_no_signer(tmp_path: Path) -> None:
    assert load_signer(load_settings({"KYHOP_DATA_DIR": str(tmp_path)})) is None


def test_resolutions_and_minutes_are_signed_pades_and_valid(tmp_path: Path) -> None:
    signer, cert = _signer(tmp_path)
    assert CHAIR in signer.subject
    bundle = ar.Bundle(sources(), signer)
    unsigned = ar.Bundle(sources())
    for name in (ar.MINUTES_PDF, "pdf/nghi-quyet-01-2026-nq-hdnd.pdf"):
        signed = bundle.part(name)
        # An incremental update: the byte-stable unsigned PDF is the signed file's prefix.
        plain = unsigned.part(name)
        assert signed[: len(plain)] == plain and len(signed) > len(plain)
        reader = PdfFileReader(io.BytesIO(signed))
        (sig,) = reader.embedded_signatures
        assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
        trust = ValidationContext(trust_roots=[cert_to_asn1(cert)], allow_fetching=False)
        status = validate_pdf_signature(sig, trust)
        assert status.intact and status.valid and status.trusted and status.bottom_line, status.pretty_print_details()
        assert sig.coverage is not None and sig.coverage.name == "ENTIRE_FILE"
    # The count record is the committee's: not signed with the chair's key.
    count = bundle.part("pdf/bien-ban-kiem-phieu-bq-2.pdf")
    assert PdfFileReader(io.BytesIO(count)).embedded_signatures == []


def cert_to_asn1(cert: x509.Certificate) -> object:
    from asn1crypto import x509 as asn1

    return asn1.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def test_a_signed_archive_verifies_and_a_broken_signature_is_named(tmp_path: Path) -> None:
    signer, _ = _signer(tmp_path)
    data = ar.Bundle(sources(), signer).archive()
    v = ar.verify_archive(data)
    assert v.ok, v.text()
    assert set(v.signed) == {ar.MINUTES_PDF, "pdf/nghi-quyet-01-2026-nq-hdnd.pdf", "pdf/nghi-quyet-01-nq-hdnd.pdf"}
    assert all(CHAIR in who for who in v.signed.values())
    f = files(data)
    entries = msgspec.json.decode(f[ar.SIGNATURES])
    assert [e["path"] for e in entries] == sorted(v.signed)
    # What stays byte-stable when signing: the unsigned PDF each signed one extends.
    plain = ar.Bundle(sources()).part(ar.MINUTES_PDF)
    assert next(e for e in entries if e["path"] == ar.MINUTES_PDF)["unsigned_sha256"] == ar.sha256(plain)

    # A byte changed after signing, inside the signed range, and the manifest and signatures.json made to match.
    name = "pdf/nghi-quyet-01-nq-hdnd.pdf"
    pdf = bytearray(f[name])
    entry = next(e for e in entries if e["path"] == name)
    at = entry["unsigned_size"] // 2
    pdf[at] ^= 0x01
    f[name] = bytes(pdf)
    assert first_problem(rezip(f, fix_manifest=True)).startswith(f"{name}: phần chưa ký không khớp")
    entry["unsigned_sha256"] = ar.sha256(bytes(pdf[: entry["unsigned_size"]]))
    f[ar.SIGNATURES] = msgspec.json.encode(entries)
    assert first_problem(rezip(f, fix_manifest=True)).startswith(f"{name}: chữ ký số không hợp lệ")

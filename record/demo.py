"""Write the whole record of the demo session (meeting/script.py) to a folder: every PDF, the Akoma Ntoso XML,
the JSON and CSV, and with `--png` an image of each document's first page (docs/record/ is made so).

    python -m record.demo OUT [--png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from record import akn, export, pdf
from record.inputs import demo_inputs
from record.projection import Projection, project


def demo_projection() -> Projection:
    from server.simulate import simulate  # the in-memory run of the scripted session (not needed to print a record)

    m = simulate(out=lambda _: None)
    assert m.council is not None
    return project([r.event for r in m.log], m.council.resolutions.values(), demo_inputs())


def write_all(out: Path, png: bool = False) -> list[Path]:
    pr = demo_projection()
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for doc in pr.resolution_docs():
        name = f"nghi-quyet-{akn.slug(doc.number)}"
        files[f"{name}.pdf"] = pdf.build_resolution_pdf(doc)
        files[f"{name}.xml"] = akn.resolution_akn(doc)
    minutes = pr.minutes_doc()
    files["bien-ban-ky-hop.pdf"] = pdf.build_minutes_pdf(minutes)
    files["bien-ban-ky-hop.xml"] = akn.debate_akn(minutes)
    for count in pr.count_record_docs():
        files[f"bien-ban-kiem-phieu-{count.subject_id}.pdf"] = pdf.build_count_record_pdf(count)
    files["ky-hop.json"] = export.export_json(pr.record)
    files["bieu-quyet.csv"] = export.export_csv(pr.record, export.CsvTable.VOTES)
    files["diem-danh.csv"] = export.export_csv(pr.record, export.CsvTable.ATTENDANCE)
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
        if png and name.endswith(".pdf"):
            written.append(_first_page_png(data, out / name.replace(".pdf", ".png")))
    return written


def _first_page_png(data: bytes, path: Path) -> Path:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]  # a dev dependency: only the docs' images need it

    page = pdfium.PdfDocument(data)[0]
    # 72 dpi in grey, 4-bit palette: a readable A4 page in ~40 KB.
    image = page.render(scale=1.0).to_pil().convert("L").quantize(colors=16)
    image.save(path, optimize=True)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--png", action="store_true", help="also an image of each PDF's first page")
    args = ap.parse_args()
    for p in write_all(args.out, args.png):
        print(p)


if __name__ == "__main__":
    main()

"""The session's record as documents: minutes, resolutions and count records (PDF in the layout of Decree
30/2020/NĐ-CP), Akoma Ntoso 3.0 XML, and JSON/CSV exports — each a projection of the session's events.

`projection` turns the domain's state and the secretariat's inputs into plain structs (`model`); `pdf`, `akn`
and `export` render those structs and hold no rule of their own.
"""

from record.akn import debate_akn, resolution_akn
from record.export import export_csv, export_json
from record.pdf import build_count_record_pdf, build_minutes_pdf, build_resolution_pdf

__all__ = [
    "build_count_record_pdf",
    "build_minutes_pdf",
    "build_resolution_pdf",
    "debate_akn",
    "export_csv",
    "export_json",
    "resolution_akn",
]

"""The TrueType font embedded in every PDF the server writes (stamps, demo documents).

Vietnamese needs a font with the precomposed letters of the Latin Extended Additional block (ễ, ượ, ậ...): the PDF
core fonts (Helvetica, Times) have none of them, and the fonts installed on a given machine cannot be relied on.
Be Vietnam Pro (SIL Open Font License 1.1), designed for Vietnamese, is shipped as a Python package
(`fontpkg-be-vietnam-pro`, declared in pyproject.toml), so every install has the same font files.
"""

from __future__ import annotations

import logging
from importlib.resources import as_file, files
from pathlib import Path

FAMILY = "BeVietnamPro"
# fontTools logs every step of subsetting at INFO (fpdf2 subsets the font for each PDF it writes): not news.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
_PACKAGE = "fontpkg_be_vietnam_pro"


def font_path(style: str = "Regular") -> Path:
    """The .ttf file of a style ("Regular", "Bold", "Italic", "SemiBold"...) inside the installed package."""
    resource = files(_PACKAGE).joinpath("files", f"BeVietnamPro-{style}.ttf")
    with as_file(resource) as path:  # a real file for an installed wheel; no temporary copy is made
        if not path.is_file():
            raise FileNotFoundError(f"{resource} is missing: reinstall fontpkg-be-vietnam-pro")
        return Path(path)

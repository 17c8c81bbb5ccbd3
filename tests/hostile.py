"""Hostile spreadsheets, a few kilobytes each, built here from their XML (no office suite needed):
what an attacker, or a damaged file, sends to the import (issue: hostile files and faults).

Each builder writes a file and returns its path. The workbooks are minimal but real: calamine and
openpyxl open the small ones, and LibreOffice opens them all."""
import zipfile

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/worksheets/sheet1.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
HEADER = ("公司名称", "城市", "电话")


def column_letters(number):
    """1 -> A, 16384 -> XFD."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(column, row, text):
    return f'<c r="{column_letters(column)}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(path, cells, dimension=None, extra_xml=""):
    """A workbook whose first sheet holds `cells` {(row, column): text} (1-based), a header row
    (`HEADER`) in row 1 unless `cells` says otherwise; `dimension` a <dimension ref> to write (a lie, say)."""
    cells = {**{(1, i + 1): name for i, name in enumerate(HEADER)}, **cells}
    rows = {}
    for (row, column), text in sorted(cells.items()):
        rows.setdefault(row, []).append(_cell(column, row, text))
    body = "".join(f'<row r="{row}">{"".join(parts)}</row>' for row, parts in rows.items())
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             + (f'<dimension ref="{dimension}"/>' if dimension else "")
             + f"<sheetData>{body}</sheetData>{extra_xml}</worksheet>")
    return _zip(path, {"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS, "xl/workbook.xml": _WORKBOOK,
                       "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS, "xl/worksheets/sheet1.xml": sheet})


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def xlsx_far_corner(path):
    """1.6 KB: a header and one cell at XFD1048576, the sheet's last cell (A1:XFD1048576)."""
    return xlsx(path, {(2, 1): "上海瑞丽服装有限公司", (1048576, 16384): "x"})


def xlsx_wide_and_tall(path, rows=100_000, columns=1_000):
    """A header and a cell at row `rows`, column `columns`: 100,000 x 1,000 cells to a dense reader."""
    return xlsx(path, {(2, 1): "上海瑞丽服装有限公司", (rows, columns): "x"})


def xlsx_stray_cell(path, rows=30, column=16384):
    """An office file's accident: a header of three columns, `rows` customers, and one stray cell far
    to the right (a space typed in XFD5): read up to the header's width, not refused."""
    cells = {(row + 1, 1): f"广州星河{row}号五金有限公司" for row in range(1, rows + 1)}
    cells.update({(row + 1, 2): "广州" for row in range(1, rows + 1)})
    cells[(5, column)] = "x"
    return xlsx(path, cells)


def xlsx_big_cells(path, count=3, chars=5_000_000):
    """`count` cells of `chars` characters each (one letter repeated: a few KB zipped)."""
    return xlsx(path, {(row + 2, 1): "瑞" * chars for row in range(count)})


def xlsx_zip_bomb(path, megabytes=200):
    """A sheet padded with `megabytes` MB of spaces after its data: a ratio of about 1,000 to 1."""
    return xlsx(path, {(2, 1): "上海瑞丽服装有限公司"}, extra_xml=" " * (megabytes * 1024 * 1024))


def ods_repeated(path, rows=1_000_000, columns=1_000):
    """An .ods of under a kilobyte: a header, then one non-empty cell repeated `columns` times in a
    row repeated `rows` times (table:number-*-repeated)."""
    content = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               '<office:body><office:spreadsheet><table:table table:name="客户">'
               '<table:table-row>'
               + "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                         for h in HEADER)
               + '</table:table-row>'
               f'<table:table-row table:number-rows-repeated="{rows}">'
               f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
               '<text:p>瑞丽服装</text:p></table:table-cell></table:table-row>'
               '</table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as archive:
        # the mimetype first and stored, as ODF asks
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def csv_wide_header(path, columns=1_000_000):
    """A header of `columns` columns (about 2 bytes each)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("公司名称" + ",x" * (columns - 1) + "\n上海瑞丽服装有限公司\n")
    return path


def csv_wide_row(path, columns=1_000_000):
    """A normal header, and a data row of `columns` columns."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("公司名称,城市\n上海瑞丽服装有限公司,上海" + ",x" * columns + "\n")
    return path

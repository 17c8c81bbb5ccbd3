"""Make the office-suite fixtures of tests/test_import_files.py with LibreOffice, once.

The files are committed; the tests never need LibreOffice. Run again (from anywhere) with
the system Python, which has LibreOffice's UNO bridge (Debian: python3-uno):

    /usr/bin/python3 tests/data/make_office_files.py

It starts a headless LibreOffice with a throw-away profile, types one customer list as a
clerk in China would (a title row and an empty row above the headers, a mobile typed as a
number, a date cell, a CONCATENATE formula whose cached value LibreOffice writes), and saves it
as .xlsx, .xls (Excel 97-2003, BIFF8), .ods, and password-protected .xlsx and .xls.
"""
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import uno
from com.sun.star.beans import NamedValue, PropertyValue

HERE = Path(__file__).resolve().parent
PASSWORD = "secret"
PORT = 2083
TITLE = "2026年客户名单"
HEADERS = ["公司名称", "电话", "手机", "省份", "城市", "地址", "登记日期", "备注"]
# (company, landline, mobile as a number, province, city, the formula of the address, date, remark)
ROWS = [
    ["扬州恒达机械厂", "0514-2398577", 13902201234, "江苏", "扬州", '=CONCATENATE(D4;E4;"市邗江区")', "2026-03-01", "老客户"],
    ["苏州精工模具有限公司", "0512-65432100", 13700001111, "江苏", "苏州", '=CONCATENATE(D5;E5;"市吴中区")', "2026-03-02", ""],
    ["杭州新星电子科技有限公司", "", 13800002222, "浙江", "杭州", "", "", "重点"],
]
FILTERS = {  # file name -> (LibreOffice filter, password or None)
    "customers-libreoffice.xlsx": ("Calc MS Excel 2007 XML", None),
    "customers-libreoffice.xls": ("MS Excel 97", None),
    "customers-libreoffice.ods": ("calc8", None),
    "encrypted-libreoffice.xlsx": ("Calc MS Excel 2007 XML", PASSWORD),
    "encrypted-libreoffice.xls": ("MS Excel 97", PASSWORD),
}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def encryption(password):
    """The media descriptor's EncryptionData of a password, as the Save dialog passes it to the
    Microsoft filters: .xlsx becomes an OLE container with an EncryptedPackage stream (ECMA-376
    standard encryption), .xls gets a FILEPASS record (RC4)."""
    values = []
    for name, value in (("OOXPassword", password), ("XLSPassword", password), ("CryptoType", "Standard")):
        item = NamedValue()
        item.Name, item.Value = name, value
        values.append(item)
    return prop("EncryptionData", uno.Any("[]com.sun.star.beans.NamedValue", tuple(values)))


def connect(profile):
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo",
                               f"-env:UserInstallation={Path(profile).as_uri()}",
                               f"--accept=socket,host=127.0.0.1,port={PORT};urp;"])
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(60):  # LibreOffice takes a few seconds to listen
        try:
            context = resolver.resolve(f"uno:socket,host=127.0.0.1,port={PORT};urp;StarOffice.ComponentContext")
            return office, context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except Exception:
            time.sleep(0.5)
    office.kill()
    raise SystemExit("LibreOffice did not start")


def fill(document):
    sheet = document.Sheets.getByIndex(0)
    sheet.getCellByPosition(0, 0).setString(TITLE)  # row 1 the title, row 2 empty, row 3 the headers
    for column, header in enumerate(HEADERS):
        sheet.getCellByPosition(column, 2).setString(header)
    formats = document.NumberFormats
    locale = uno.createUnoStruct("com.sun.star.lang.Locale")
    date_format = formats.queryKey("YYYY-MM-DD", locale, False)
    if date_format == -1:
        date_format = formats.addNew("YYYY-MM-DD", locale)
    for offset, row in enumerate(ROWS):
        for column, value in enumerate(row):
            cell = sheet.getCellByPosition(column, 3 + offset)
            if isinstance(value, int):
                cell.setValue(float(value))  # a mobile typed as a number: the cell holds 13902201234.0
            elif value.startswith("="):
                cell.setFormula(value)
            elif column == 6 and value:
                # a date is the day's serial number (days since 1899-12-30) shown in a date format
                cell.setValue(float((date.fromisoformat(value) - date(1899, 12, 30)).days))
                cell.NumberFormat = date_format
            elif value:
                cell.setString(value)


def main():
    with tempfile.TemporaryDirectory() as profile:
        office, desktop = connect(profile)
        try:
            document = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (prop("Hidden", True),))
            fill(document)
            document.calculateAll()
            for name, (filter_name, password) in FILTERS.items():
                target = HERE / name
                target.unlink(missing_ok=True)
                props = [prop("FilterName", filter_name), prop("Overwrite", True)]
                if password:
                    props.append(encryption(password))
                uno.invoke(document, "storeToURL", (target.as_uri(), tuple(props)))  # uno.Any needs invoke
                print(target, target.stat().st_size, "bytes")
            document.close(True)
        finally:
            try:
                desktop.terminate()
            except Exception:  # the bridge goes away as LibreOffice quits
                pass
            office.wait(timeout=30)


if __name__ == "__main__":
    main()

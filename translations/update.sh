#!/usr/bin/env bash
# Refresh the message catalogs after strings changed in the Python code or the templates:
#   1. extract every message into translations/messages.pot (babel.cfg says where to look),
#   2. merge it into the Simplified Chinese catalog (new strings arrive with an empty msgstr,
#      vanished ones become obsolete "#~" entries; no fuzzy guesses),
#   3. regenerate the Traditional Chinese catalog from it (translations/make_hant.py, OpenCC).
# Then translate the new empty msgstr in zh_Hans_CN/LC_MESSAGES/messages.po, run this again,
# and check with `python -m pytest tests/test_i18n.py`. The .mo files are compiled by the
# app itself at start when missing or older than their .po (services/catalogs.py).
#
# Uses `python3` from PATH (override with PYTHON=/path/to/python), with Babel and OpenCC.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
pybabel() { "$PYTHON" -m babel.messages.frontend "$@"; }

cd "$ROOT"
pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
    --project "Channel CRM" --version "1.0" -o translations/messages.pot .
pybabel update -i translations/messages.pot -d translations -l zh_Hans_CN --no-fuzzy-matching
"$PYTHON" translations/make_hant.py

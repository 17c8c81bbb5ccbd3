"""The manual's rules, as plain functions of (session, acting user, input).

No request and no template in here: pages, the JSON API and the CLI call the same
functions, so a rule written once holds on every path.
"""

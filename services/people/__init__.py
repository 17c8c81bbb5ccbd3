"""Accounts and who may do what: users, passwords, login throttling and tokens, departments, and the access rules every query is scoped by.

Modules:
- `accounts`
- `access`
- `departments`
- `passwords`
"""

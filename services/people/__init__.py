"""Accounts and who may do what.

- `access`       every scope in one place: `opportunity_clause`, `user_clause`, `department_clause`,
                 `may_administer_user`, `company_path`, `company_department`
- `accounts`     login and its throttling (`authenticate`, `captcha_checked`), users (`create_user`,
                 `update_user`, soft delete), one-time passwords, API tokens
- `departments`  the department tree: `create_department`, `update_department`, `resolve_path`
- `passwords`    argon2id hashing and the policy: `hash_password`, `verify_password`, `password_problem`

`PUBLIC` names what the other wings use, through this package only (`from .. import people`, then
`people.opportunity_clause(actor)`; tests/test_architecture.py).
"""
from .. import public_names

PUBLIC = {
    "ADMIN_ROLES": "access", "LIBRARY_ROLES": "access", "MANAGING_ROLES": "access", "company_department": "access",
    "company_path": "access", "deleted_opportunity_clause": "access", "duplicate_reach_clause": "access",
    "is_admin": "access", "may_administer_department": "access", "may_administer_user": "access",
    "may_delete_opportunity_clause": "access", "may_merge_public_pool": "access", "opportunity_clause": "access",
    "public_pool_clause": "access", "user_clause": "access",
    "find_user": "accounts",
    "resolve_path": "departments",
}

# looked up when used: see public_names
__getattr__, __dir__ = public_names(__name__, PUBLIC)
__all__ = sorted(PUBLIC)

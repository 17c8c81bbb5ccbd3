"""Accounts and who may do what.

- `access`       every scope in one place: `opportunity_clause`, `user_clause`, `department_clause`,
                 `may_administer_user`, `company_path`, `company_department`
- `accounts`     login and its throttling (`authenticate`, `captcha_checked`), users (`create_user`,
                 `update_user`, soft delete), one-time passwords, API tokens
- `departments`  the department tree: `create_department`, `update_department`, `resolve_path`
- `passwords`    argon2id hashing and the policy: `hash_password`, `verify_password`, `password_problem`
"""

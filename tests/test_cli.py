"""The command line of docs/contract.md: init-db, departments create, users create, users token."""
import hashlib

from models import ApiToken, Department, User, db
from services.people import accounts


def test_init_db_is_safe_to_run_again(runner, app):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        roots = db.session.scalars(db.select(Department).where(Department.parent_id.is_(None))).all()
        assert len(roots) == 1


def test_departments_create_makes_missing_levels_with_the_company_prefix(runner, app):
    result = runner.invoke(args=["departments", "create", "华南代理/销售一部/电话组"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["departments", "create", "华南代理/销售一部/电话组"])
    assert again.exit_code == 0 and again.output == result.output  # nothing new made
    with app.app_context():
        names = [d.name for d in db.session.scalars(db.select(Department).order_by(Department.path))]
    assert names == ["总部", "华南代理", "华南代理销售一部", "华南代理电话组"]


def test_users_create_with_a_one_time_password_printed_last(runner, app):
    runner.invoke(args=["departments", "create", "华南代理/销售一部"])
    result = runner.invoke(args=["users", "create", "zhangsan", "--role", "supervisor",
                                 "--department", "华南代理/销售一部", "--manages", "华南代理/销售一部"])
    assert result.exit_code == 0, result.output
    one_time = result.output.split()[-1]
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(login="zhangsan"))
        assert user.must_change_password and [d.name for d in user.managed_departments] == ["华南代理销售一部"]
        assert accounts.authenticate(db.session, "zhangsan", one_time).id == user.id


def test_users_create_with_a_final_password(runner, app):
    runner.invoke(args=["departments", "create", "华南代理"])
    result = runner.invoke(args=["users", "create", "lisi", "--role", "agent_admin", "--department", "华南代理",
                                 "--password", "渠道客户管理2026"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert not db.session.scalar(db.select(User).filter_by(login="lisi")).must_change_password


def test_users_create_refuses_bad_input_with_a_message(runner, app):
    runner.invoke(args=["departments", "create", "华南代理"])
    cases = [
        (["users", "create", "lisi", "--role", "salesperson", "--department", "无此公司"], "无此公司"),
        (["users", "create", "lisi", "--role", "salesperson", "--department", "华南代理", "--password", "123"], None),
        (["users", "create", "lisi", "--role", "king", "--department", "华南代理"], None),
    ]
    for args, word in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        if word:
            assert word in result.output
    runner.invoke(args=["users", "create", "lisi", "--role", "salesperson", "--department", "华南代理"])
    taken = runner.invoke(args=["users", "create", "LISI", "--role", "salesperson", "--department", "华南代理"])
    assert taken.exit_code != 0 and "LISI" in taken.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


def test_users_token_is_printed_once_and_stored_hashed(runner, app):
    runner.invoke(args=["departments", "create", "华南代理"])
    runner.invoke(args=["users", "create", "lisi", "--role", "agent_admin", "--department", "华南代理"])
    result = runner.invoke(args=["users", "token", "lisi"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    with app.app_context():
        stored = db.session.scalar(db.select(ApiToken))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash
        assert accounts.user_for_token(db.session, token).login == "lisi"
    assert runner.invoke(args=["users", "token", "nobody"]).exit_code != 0


def test_users_bootstrap_creates_one_subsystem_admin(runner, app):
    first = runner.invoke(args=["users", "bootstrap"])
    assert first.exit_code == 0 and first.output.split()[-1]
    second = runner.invoke(args=["users", "bootstrap"])
    assert second.exit_code == 0
    with app.app_context():
        admins = db.session.scalars(db.select(User).filter_by(role="subsystem_admin")).all()
        assert [u.login for u in admins] == ["admin"] and admins[0].must_change_password

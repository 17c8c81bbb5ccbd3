"""The user guide (用户手册), regenerated from a fresh walk through the manual in a real browser.

    .venv/bin/python docs/make_guide.py              # walk, then write docs/guide/README.md
    .venv/bin/python docs/make_guide.py --text-only  # rewrite the text around the screenshots already there

The walk is tests/test_browser_manual.py (one test per section of the old training manual), then
the imports and duplicates walks (tests/test_browser_imports.py, tests/test_browser_duplicates.py), run
with CRM_SCREENSHOTS set to a fresh folder whose images replace docs/guide/img only when every
section passed, so the guide can only show screens the current code has just drawn. Button and menu names in the text come from the Chinese
catalog, and the figures (cap, quotas, lock days) from the app's configuration and the resource
rules' defaults, so a renamed button or a changed default shows up here at the next run. The guide
refers to every screenshot the walk took and to no other: a mismatch stops the command.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide"
IMAGES = GUIDE / "img"
# the manual's nine sections, then imports and duplicates
WALK = ["tests/test_browser_manual.py", "tests/test_browser_imports.py", "tests/test_browser_duplicates.py",
        "tests/test_browser_notices.py"]
sys.path.insert(0, str(ROOT))


def walk():
    """Run the browser walk; its screenshots replace the old ones only if every section passed."""
    with tempfile.TemporaryDirectory(prefix="crm-guide-") as fresh:
        env = {**os.environ, "CRM_SCREENSHOTS": fresh}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *WALK],
                              cwd=ROOT, env=env)
        if done.returncode != 0:
            sys.exit("the walk failed: the guide was left as it was (fix the app or the walk first)")
        IMAGES.mkdir(parents=True, exist_ok=True)
        for old in IMAGES.glob("*.png"):
            old.unlink()
        for new in Path(fresh).glob("*.png"):
            shutil.move(str(new), IMAGES / new.name)


def catalog_and_figures():
    """t(msgid): the Simplified Chinese text of the UI; n: the figures the rules use by default."""
    from flask_admin.babel import gettext as admin_gettext
    from flask_babel import force_locale, gettext

    from app import create_app
    from models import ResourceRules
    from services.duplicates import merges

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "guide-only"})

    def t(msgid, **variables):
        with app.test_request_context(), force_locale("zh_Hans_CN"):
            text = gettext(msgid, **variables)
            if text == msgid and not variables:  # a word of Flask-Admin's own pages ("Home", "Create")
                text = admin_gettext(msgid)
        if text == (msgid % variables if variables else msgid):
            sys.exit(f"untranslated in the catalog: {msgid}")
        return text

    n = {c.name: c.default.arg for c in ResourceRules.__table__.columns if c.default is not None}
    n.update({key: app.config[key] for key in ("CRM_INACTIVE_LOCK_DAYS", "CRM_LOGIN_MAX_FAILURES",
                                               "CRM_LOGIN_WAIT_MINUTES", "CRM_TEMP_PASSWORD_HOURS",
                                               "CRM_MATURITY_MAX", "CRM_IMPORT_MAX_MB", "CRM_IMPORT_MAX_ROWS",
                                               "CRM_IMPORT_RETENTION_DAYS")})
    n["merge_undo_days"] = merges.UNDO_DAYS
    return t, n


def sections(t, n):
    """The old manual's nine sections: (title, who, what it is for, [(screenshot, step)], [rules])."""
    q = lambda msgid, **kw: f"“{t(msgid, **kw)}”"  # noqa: E731 - a UI label, quoted as the manual does
    return [
        ("一、登录", "所有用户", "用自己的账号进入CRM。",
         [("s1-01-login", "第一步：在浏览器中打开CRM的网址，出现登录页。"),
          ("s1-02-wrong-password", f"第二步：输入账号和密码，点击{q('Log in')}。账号或密码不对时，页面提示{q('Wrong login or password.')}，"
                                   "不会告诉您是哪一项错了。"),
          ("s1-03-dashboard", f"第三步：登录成功后进入{q('Home')}，这里显示今天的有效联系量、新增重点客户和库存。")],
         ["启用验证码时（默认启用），还要输入图片中的字符；看不清可以点击图片换一张。本手册的截图在关闭验证码的配置下拍摄"
          "（`CRM_CAPTCHA=0`），其余与正式环境相同。",
          f"同一个账号连续输错 {n['CRM_LOGIN_MAX_FAILURES']} 次密码，需要等待 {n['CRM_LOGIN_WAIT_MINUTES']} 分钟才能再试。",
          f"账号连续 {n['CRM_INACTIVE_LOCK_DAYS']} 天未使用会被锁定，请管理员恢复（见第七节）。"]),
        ("二、初始设置", "新用户、密码被重置的用户", "第一次登录时设置自己的密码。",
         [("s2-01-forced-change", "第一步：用管理员给的一次性密码登录，系统直接进入修改密码页面；改密码之前，其他页面都打不开。"),
          ("s2-02-new-password", f"第二步：填写新密码并再输入一次（邮箱可以不填写），点击{q('Save')}。"),
          ("s2-03-done", f"第三步：页面提示{q('Your password has been changed.')}，进入首页。以后用新密码登录。")],
         ["密码至少 8 个字符，不要求大小写或符号；一句好记的短句最安全。最常见的密码会被拒绝。",
          f"一次性密码只在创建或重置时显示一次，{n['CRM_TEMP_PASSWORD_HOURS']} 小时内有效。",
          "修改密码后，您在其他电脑上的登录会自动退出。"]),
        ("三、录入", "销售人员、主管、经理", "把一个新客户录入自己的库。录入前，请与客户确认正确、有效且真实的信息："
         "1. 营业执照上的公司名；2. 固定电话；3. 传真。以手册中的客户为例：扬州五环印花厂，电话 0514——2398577，传真 0514——2345586。",
         [("s3-01-check-page", f"第一步：点击菜单{q('Opportunity management')} → {q('Duplicate check')}，进入撞单检测页面。"),
          ("s3-02-by-name", f"第二步：输入公司名称关键字（如“五环印花”，模糊匹配），点击{q('Check')}。"),
          ("s3-03-by-landline", f"第三步：输入固定电话（不带区号，如 2398577），点击{q('Check')}。"),
          ("s3-04-by-fax", f"第四步：输入传真（不带区号，如 2345586），点击{q('Check')}。三项都显示"
                           f"{q('%(n)d customers in all', n=0)}，表示没有重复，可以点击{q('Enter this customer')}。"),
          ("s3-05-live-check", "第五步：在录入页面输入公司名称、电话、传真时，系统会边输入边检测。例如输入“上海瑞丽服装厂”，"
                               "公司名称下方立即显示别人库里的“上海市瑞丽服装有限公司”（只显示名称、所在位置和归属，不显示对方的联系方式），"
                               "判定为撞单，不能录入。电话、手机查到的客户显示在该号码下方；没有查到时，该栏下方显示“无重复”。"),
          ("s3-06-form-filled", "第六步：填写公司名称、省份、城市、联系人、联系方式，选择正确的信息来源和行业。"),
          ("s3-07-saved", f"第七步：点击{q('Save')}，客户进入自己的库。"),
          ("s3-08-in-my-opportunities", f"在{q('Opportunity management')} → {q('My opportunities')}（打开即是“全部”，今天应联系的客户排在最前），可以看到刚录入的客户。"),
          ("s3-09-found-after", f"再用电话查询撞单，结果为{q('%(n)d customers in all', n=1)}，并标明{q('Yours')}。"),
          ("s3-10-other-division", f"旧手册的常见问题1：客户在电销或行业库中。以佛山市南海区里水惠翔印刷厂为例，用电话 85601234 查询，即显示它在"
                                   f"{q('Industry division')}，判定{q('Cannot be entered')}，页面不再提供录入按钮。")],
         ["公司名称、电话、传真分别查询，任何一项有重复即不可录入。",
          "名称相似但归属不同的客户（如一个在公海的“上海瑞丽服装厂”和一个在别人名下的“上海市瑞丽服装有限公司”）视为同一客户，不能录入。",
          "保存时系统会在同一事务中再检测一次：旧手册中的常见问题——保存后提示“电销/行业中存在这个客户”、"
          "提示保存成功却在我的机会中找不到、被绑定到别人或自己原有的记录——现在都会在保存前直接说明客户在哪里，不会再发生。",
          f"每人库存上限 {n['cap_salesperson']} 个客户（销售人员、主管、经理），库满时不能录入或领取。",
          f"撞单检测每人每天最多 {n['daily_check_limit']} 次，每次查询都有记录，以防被用来批量导出客户。"]),
        ("四、填写联系小记", "销售人员、主管、经理", "每次联系客户后记录实际情况。",
         [("s4-01-search", f"第一步：点击菜单{q('Opportunity management')} → {q('My opportunities')}，输入任何您知道的该客户的信息（名称、电话或传真不带区号、联系人）进行搜索。"),
          ("s4-02-details", "第二步：点击公司名，展开机会详细页面。"),
          ("s4-03-note-filled", "第三步：选择联系方式和成熟度，如实填写联系小记，选择下次联系时间。"),
          ("s4-04-valid", f"第四步：点击{q('Save note')}。页面提示这条小记是否计入有效联系量。"),
          ("s4-05-not-valid", f"勾选了{q('Customer busy, call again')}的小记同样保存，但不计入有效联系量。")],
         ["成熟度为 0 类的不计入有效联系量。",
          f"成熟度不为 0，但勾选了{q('Could not reach the customer')}或{q('Customer busy, call again')}的，不计入有效联系量。",
          f"成熟度从 0 到 {n['CRM_MATURITY_MAX']}。小记保存后不能修改；要更正，请再写一条。"]),
        ("五、放弃客户", "销售人员；代理商管理员", "按客户真实情况放弃客户；放弃的客户进入本代理商的“代理商管理员库”，由代理商管理员重新分配。",
         [("s5-01-abandon-reason", f"第一步：在机会详细页面底部选择{q('Abandon reason')}。"),
          ("s5-02-abandoned", f"第二步：点击{q('Abandon customer')}，客户离开您的库。"),
          ("s5-03-agent-pool", f"第三步（代理商管理员）：点击菜单{q('Agent-admin pool')}，找到该客户。"),
          ("s5-04-reassign", f"第四步：点击{q('Reassign')}，选择一名本公司的销售人员（括号内是其库存）。"),
          ("s5-05-reassigned", f"第五步：点击{q('Reassign')}确认，客户进入该销售人员的库。")],
         ["放弃必须选择原因，原因和操作人记入客户的历史。",
          "代理商管理员只能分配给本代理商的人员，对方库满时不能分配；也可以把客户释放到公海。"]),
        ("六、新增用户", "子系统管理员、代理商管理员", "为新同事开账号。",
         [("s6-01-users", f"第一步：点击菜单{q('System management')} → {q('Users')}，再点击{q('Create')}。"),
          ("s6-02-form-filled", f"第二步：输入登录账号，系统立即检测是否可用（{q('This login is free.')}）；选择角色、所属部门；"
                                "如果是主管或经理，还要选择管辖部门，即这个账号管理哪些部门。"),
          ("s6-03-one-time-password", f"第三步：点击{q('Save')}，页面显示一次性密码。请把它交给新同事，他第一次登录时必须修改（见第二节）。")],
         ["登录账号同时也是用户名，不区分大小写，不能与已有账号重复。",
          "代理商管理员只能在本公司内开账号，且不能开比自己权限更高的账号。",
          "一次性密码只显示这一次，系统只保存它的散列值。"]),
        ("七、查询用户", "子系统管理员、代理商管理员", "查找账号，恢复被锁定的账号，重置丢失的密码。",
         [("s7-01-locked-out", f"账号连续 {n['CRM_INACTIVE_LOCK_DAYS']} 天未使用会被锁定，登录时提示账号已锁定。"),
          ("s7-02-found", f"第一步：管理员进入{q('System management')} → {q('Users')}，输入被锁定的账号进行查询，其状态为{q('Locked')}。"),
          ("s7-03-restored", f"第二步：点击该行的开锁图标（{q('Restore account')}），页面提示账号已恢复，用户可以重新登录。"),
          ("s7-04-password-reset", f"密码丢失时：查询出账号后，点击该行的钥匙图标（{q('Reset password')}）并确认，页面显示新的一次性密码，"
                                   "交给用户；他登录后必须先改密码（见第二节）。")],
         [f"重置后的一次性密码 {n['CRM_TEMP_PASSWORD_HOURS']} 小时内有效，旧密码立即失效，该用户在其他电脑上的登录会退出。",
          "列表可按部门（含下级部门）、角色和状态筛选；账号不会被删除，只能停用。"]),
        ("八、新增部门", "子系统管理员、代理商管理员", "在公司下面建立部门或下级部门。",
         [("s8-01-tree", f"第一步：点击菜单{q('System management')} → {q('Departments')}，看到本公司的部门树。"),
          ("s8-02-form", f"第二步：在要新增部门的公司（或部门）那一行点击“+”（{q('Add a sub-department')}），输入部门名称。"),
          ("s8-03-saved", f"第三步：点击{q('Save')}，新部门出现在树中。部门名称前自动加上公司名称，如“华南代理客服部”。")],
         ["代理商管理员只能在本公司内建部门。"]),
        ("九、资源规则", "所有用户；规则由子系统管理员设置", "每个人每天要完成的量和库存上限，首页随时显示完成情况。",
         [("s9-01-search", "销售人员照第四节写两条小记：一条有效，一条勾选了“未联系到客户”。"),
          ("s9-02-dashboard", f"回到{q('Home')}：{q('Valid contacts today')}只计入那条有效的小记，{q('My library')}显示库存和上限。"),
          ("s9-03-manager", f"经理和主管的首页列出所管辖的每个人今天的完成情况，未完成定额的标为{q('Behind')}。"),
          ("s9-04-rules", f"子系统管理员在{q('System management')} → {q('Resource rules')}页面查看和修改这些数字，修改会记入审计日志。"),
          ("s9-05-pool-rules", f"公海规则按代理商设置：代理商管理员在同一页面的{q('Public pool rules of %(company)s', company='华南代理')}中"
                               "设置本公司的每日领取上限、原负责人再领取的间隔、新进公海客户的保护期、每人可锁定的客户数，以及是否对销售隐藏公海客户的联系方式；"
                               f"没有自己规则的代理商按总部的执行。点击{q('Save the pool rules')}，修改会记入审计日志。"),
          ("s9-06-claim-refused", f"销售人员在{q('Public pool')}中领取客户时，被规则拒绝的会说明原因以及从何时起可以领取，例如刚进入公海的客户；"
                                  "开启隐藏后，公海客户的电话只显示区号和后四位，输入完整号码仍可搜到。")],
         [f"销售人员、主管、经理的库存总数小于等于 {n['cap_salesperson']}。",
          f"每天新增重点客户 {n['quota_key_customers']} 个以上。",
          f"每天有效联系量 {n['quota_valid_contacts']} 个以上。",
          f"网上注册会员（网络线索）自接收起 {n['lead_deadline_hours']} 小时内跟进，超时会提醒管理员。",
          "回收规则开启时，“我的机会”和机会详细页面显示“距回收 N 天”；到期前几天首页会提醒负责人。",
          f"在机会详细页面或“我的机会”的批量操作中可以{q('Lock')}客户：锁定的客户不会被回收，数量不超过公司规定；客户离开您的库时锁定解除。重点客户本来就不会被回收，无需锁定。",
          "自己放弃或被回收的客户，在规定天数内自己不能再领取（别人可以）；客户合并后这段记录依然有效。"]),
        ("十、导入客户", "代理商管理员、子系统管理员", "把已有的客户名单（Excel、WPS 或 CSV 文件）一次导入。写入之前，每一行都先做撞单检测。",
         [("s10-01-upload", f"第一步：点击菜单{q('System management')} → {q('Imports')}，再点击{q('Import customers')}。选择文件（.xlsx、.xls 或 .csv；"
                            f"可以先{q('Download the template')}），选择新客户导入到哪里（公海、代理商管理员库、某个销售的库，"
                            f"或轮流分给一个部门的销售），点击{q('Upload and check')}。"),
          ("s10-02-preview", "第二步：后台逐行检测，页面显示进度；完成后显示预览：文件的每一列对应哪个字段（可以修改）、"
                             "信息来源中不在列表里的值（如“朋友推荐”，为它选择列表中的值），以及新客户、需确认、撞单、无效各有多少行，"
                             "每一行都写明原因：和哪个客户重复、那个客户在哪里，或哪一项填写有误。"),
          ("s10-03-review", f"第三步：修改后点击{q('Save the choices and check again')}。在{q('Needs confirmation')}中勾选确实是另一家公司的行，"
                            f"点击{q('Save the ticks')}。"),
          ("s10-04-done", f"第四步：点击{q('Import')}。导入在后台进行，完成后显示导入了多少客户；点击{q('Download the report')}，"
                          "查看没有导入的行及原因。")],
         ["导入要么全部完成，要么一条也不写入；后台进程中断时，导入标记为失败并说明原因，可以重新执行。",
          "撞单和无效的行不会导入；需确认的行只有勾选后才会导入；导入到个人库时不超过库存上限。",
          "表头可以在标题行下面；以数字保存的手机号、日期和公式都按表格中显示的内容读取。",
          f"文件不超过 {n['CRM_IMPORT_MAX_MB']} MB、{n['CRM_IMPORT_MAX_ROWS']} 行；上传的文件和报告保存 "
          f"{n['CRM_IMPORT_RETENTION_DAYS']} 天后自动删除。代理商管理员只能导入到本公司。",
          "从其他CRM或自己的表格迁移：悟空CRM、芋道CRM等导出的表头（如带必填标记的“客户名称*”、“所属行业”、“座机电话”）和繁体表头都能自动识别；"
          "不认识的列在预览中列出，由您选择导入为哪个字段或不导入。",
          "“地区”一列写着省市区时（如“广东省/深圳市/宝安区”“广东深圳宝安”）自动拆分；没有地区列时从详细地址的开头读取；"
          "读不出地区的行标为无效并写明原因。",
          "“下次联系时间”成为下次联系时间；“备注”成为一条导入的联系小记（不算有效联系）；“客户等级”的每个值由您选择是否算重点客户；"
          "“业务负责人”按登录名或姓名把客户放进此人的库，同名、找不到或库已满的按导入目标放置，并在报告中列出。",
          "微信号和手机一样参与撞单检测；本系统导出的文件可以直接导入另一套系统。"]),
        ("十一、重复客户", "代理商管理员、子系统管理员", "找出系统里已有的重复客户（旧系统迁移来的名单、确认为“相似”后发现是同一家的客户等），"
         "并排比较后合并成一条。合并可以撤销。",
         [("s11-01-groups", f"第一步：点击菜单{q('Duplicate customers')}，再点击{q('Search for duplicates')}。查找在后台进行，页面显示进度；"
                            f"完成后分{q('Duplicate')}和{q('Similar')}两栏列出，每组写明原因（如同一固定电话不计区号、同一地区的相同字号），"
                            "各条记录并排显示，不同的值以黄色标出。"),
          ("s11-02-merge", f"第二步：点击{q('Merge')}。选择保留哪条记录（{q('Keep')}），再为每个不同的字段选择保留哪条记录的值。"
                           "默认取保留记录自己的值，它为空时取其他记录的值。例如保留销售人员库里的记录，联系人取旧名单中的“李经理”。"),
          ("s11-03-merged", f"第三步：点击{q('Merge')}，进入保留的客户：它带有所选的值，其他记录的联系小记、流转记录和网络线索都转到它名下。"
                            f"页面上方的提示中可以立即{q('Undo')}。"),
          ("s11-04-merges", f"{q('Merges')}列出最近的合并：保留的客户、合并进来的客户、操作人和时间。"),
          ("s11-05-undone", f"需要撤销时点击{q('Undo the merge')}：每条记录恢复原样，连同各自的联系小记和历史。")],
         [f"确实是不同公司的一组，点击{q('Not duplicates')}：这一组从列表中移除，以后的查找也不会再把它们列在一起。",
          "代理商管理员只能查找和合并本公司的客户，子系统管理员可以查找全部客户；销售人员、主管、经理看不到这个页面。",
          "查找与录入时的撞单检测使用同样的规则：撞单的组是录入时会被拒绝的重复，相似的组是录入时需要确认的，由您判断。",
          "被合并的记录从所有列表、撞单检测和统计中消失；打开它的旧链接会转到保留的客户。被合并客户的原归属人会收到通知。",
          "合并到某人的库时同样受库存上限限制，库满时合并会被拒绝并说明原因。",
          f"合并在 {n['merge_undo_days']} 天内可以撤销；如果此后情况有变（例如被合并记录的手机号已属于新录入的客户），"
          "撤销会被拒绝并说明原因。"]),
        ("十二、通知", "所有用户；机器人与 Webhook：代理商管理员、子系统管理员",
         "网络线索、超时提醒、即将回收等通知除了显示在首页，还可以发邮件，并发到企业微信、钉钉、飞书群机器人或贵公司自己的系统。",
         [("s12-01-my-notices", f"每个人：点击右上角自己的账号，再点击{q('My notice settings')}。取消勾选不想收到的邮件，"
                                f"点击{q('Save')}。邮件发到自己的邮箱（在{q('Change password')}页填写）。"),
          ("s12-02-robot-added", f"代理商管理员：点击菜单{q('Robots and webhooks')}，选择类型，粘贴群机器人设置中显示的完整 Webhook 地址"
                                 f"（钉钉、飞书开启加签时同时填写密钥），勾选要发送的事件，点击{q('Add')}。"),
          ("s12-03-delivery-log", f"页面下方的{q('Delivery log')}列出每一条通知发给了谁、何时发送、尝试了几次；发送失败时写明原因，"
                                  "系统会自动重试。")],
         ["通知由后台进程发送，不会拖慢任何页面；发送失败时先在一分钟内重试，之后间隔逐渐拉长，一天后放弃。",
          f"网络线索到期前 {n['lead_warn_hours']} 小时提醒负责人（在{q('Resource rules')}页设置，0 为关闭）；超时后同时通知管辖该部门的主管、经理和代理商管理员。",
          f"每天早上的今日应联系客户清单默认关闭，由子系统管理员在{q('Resource rules')}页开启并设置时间。",
          "已停用的账号不会收到任何通知；没有填写邮箱的人只在首页看到通知。",
          "Webhook 地址不能指向 CRM 本身、本机或内网，除非系统管理员在配置中允许（内网机器人网关）。"
          "通用 Webhook 的每条通知都带签名和时间戳，接收方可以据此拒绝伪造和重放的请求（见 docs/notices.md）。"]),
    ]


def render(t, n):
    parts = sections(t, n)
    lines = ["# 渠道CRM 用户手册", "",
             "本手册按旧版《渠道CRM基本操作自学演示版》的九节编排，对应本系统的实际页面；第十节至第十二节是新增的导入客户、重复客户和通知。",
             "所有截图由 `python docs/make_guide.py` 在真实浏览器中逐节操作时拍摄（测试 `tests/test_browser_manual.py`、"
             "`tests/test_browser_imports.py`、`tests/test_browser_duplicates.py` 和 `tests/test_browser_notices.py`），"
             "每次重新生成，不会出现过时的画面。", "", "## 目录", ""]
    lines += [f"- [{title}](#s{i})" for i, (title, *_) in enumerate(parts, 1)]
    for i, (title, who, purpose, steps, rules) in enumerate(parts, 1):
        lines += ["", f'## <a id="s{i}"></a>{title}', "", f"**适用**：{who}", "", purpose, ""]
        for image, text in steps:
            lines += [text, "", f"![{image}](img/{image}.png)", ""]
        lines += ["**规则与注意事项：**", ""] + [f"{i}. {rule}" for i, rule in enumerate(rules, 1)]
    return "\n".join(lines) + "\n", [image for *_, steps, _ in parts for image, _ in steps]


def main(argv):
    if "--text-only" not in argv:
        walk()
    t, n = catalog_and_figures()
    text, used = render(t, n)
    taken = sorted(p.stem for p in IMAGES.glob("*.png"))
    if sorted(used) != taken:
        sys.exit(f"the guide and the walk disagree: not taken {sorted(set(used) - set(taken))}, "
                 f"not in the guide {sorted(set(taken) - set(used))}")
    (GUIDE / "README.md").write_text(text, encoding="utf-8")
    print(f"wrote {GUIDE / 'README.md'} with {len(used)} screenshots")


if __name__ == "__main__":
    main(sys.argv[1:])

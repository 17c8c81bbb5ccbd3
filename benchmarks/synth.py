"""Synthetic customers for the benchmarks: realistic Chinese company names and phones.

Names are built as a person would register them: a place (full or short city name,
sometimes none), a trade name (字号) of one or two two-character words, an industry
word and a legal form (上海市瑞丽服装有限公司, 扬州恒达机械厂, 鑫源电子科技有限公司...).
Phones are landlines with a real area code of the company's city (libphonenumber's
data, as services.checking.normalize reads it), sometimes a mobile (never one given before) or a fax.

Deterministic for a given seed, so runs compare.
"""
from __future__ import annotations

import functools
import random

from services.checking import normalize

TRADE_WORDS = (
    "瑞丽 恒达 华鑫 鑫源 宏发 金泰 永盛 天成 锦华 隆兴 福瑞 嘉禾 盛世 新星 东方 顺达 正泰 中恒 海天 长城 "
    "凯旋 银河 富士 亚泰 佳美 百川 万通 兴旺 合力 博远 创新 卓越 精诚 信达 德邦 汇丰 远航 金鼎 红日 蓝天 "
    "绿源 宝隆 昌盛 和美 国泰 安泰 华宇 天宇 星辰 明珠 金桥 通达 康宁 荣华 旭日 晨光 腾飞 启明 鸿运 祥和 "
    "新华 振兴 联合 协力 鼎盛 立信 诚信 广源 丰裕 益民 惠民 利群 群星 金龙 银龙 飞龙 巨龙 神州 九州 华夏 "
    "中兴 恒通 瑞祥 吉祥 如意 美华 雅琪 丽人 雅致 名品 优品 尚品 至诚 致远 思源 汇通 环宇 寰球 同心 同德 "
    "金丰 玉龙 翠峰 碧海 青山 绿洲 白鹭 紫金 黄河 长江 珠江 泰山 华山 峨眉 天山 昆仑 海纳 博大 精工 匠心 "
    "金石 铭达 恒信 永泰 永昌 永兴 兴达 兴业 大成 大华 大地 天地 乾元 坤元 和泰 鑫达 鑫盛 鑫磊 森茂 淼森 "
    "焱鑫 垚森 金玉 宝石 钻石 水晶 琥珀 珍珠 凤凰 麒麟 骏马 雄鹰 蓝海 智联 慧通 云海 科达 奥特 捷达 迅驰"
).split()
INDUSTRY_WORDS = (
    "服装 电子 机械 科技 贸易 化工 建材 食品 家具 印刷 包装 五金 塑料 纺织 制衣 鞋业 皮具 玩具 灯饰 陶瓷 "
    "电器 照明 环保 物流 广告 信息技术 网络科技 生物科技 医疗器械 汽车配件 建筑工程 装饰工程 文化传媒 "
    "农业 茶业 酒业 药业 实业 投资 商贸 工贸 钢铁 金属制品 模具 阀门 泵业 轴承 电缆 仪器仪表 新材料 能源"
).split()
LEGAL_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司", "厂", "商行", "经营部", "集团有限公司")


def cities():
    """[(area code, province, city)] from the area-code table: every code with its city."""
    out = []
    for code, (province, served) in sorted(normalize._area_code_table().items()):
        if len(code) != (3 if code[1] in "12" else 4):
            continue  # a prefix entry of the table (058: 浙江), not a whole area code
        for city in sorted(served):
            out.append((code, province, city))
    return out


def _short(city):
    return normalize._short_name(city) or city


class Generator:
    def __init__(self, seed=2026):
        self.rng = random.Random(seed)
        self.cities = cities()
        self.seen_cores = set()
        self.seen_mobiles = set()  # a mobile is one customer's: the database keeps them unique (0006)

    def core(self):
        r = self.rng
        while True:
            if r.random() < 0.75:
                trade = r.choice(TRADE_WORDS) + r.choice(TRADE_WORDS)
            else:
                trade = r.choice(TRADE_WORDS)
            core = trade + r.choice(INDUSTRY_WORDS)
            if core not in self.seen_cores:
                self.seen_cores.add(core)
                return core

    def phone(self, code):
        r = self.rng
        digits = 8 if len(code) == 3 else r.choice((7, 8))
        return str(r.randint(2, 8)) + "".join(str(r.randint(0, 9)) for _ in range(digits - 1))

    def customer(self):
        """One customer as an import row (dict of the CSV's English columns)."""
        r = self.rng
        code, province, city = r.choice(self.cities)
        core = self.core()
        legal = r.choice(LEGAL_FORMS)
        style = r.random()
        if style < 0.45:
            company = city + core + legal
        elif style < 0.75:
            company = _short(city) + core + legal
        elif style < 0.85:
            company = core + legal + "（" + _short(city) + "）"
        else:
            company = core + legal
        row = {"company": company, "province": province, "city": city,
               "phone": f"{code}-{self.phone(code)}", "fax": "", "mobile": "", "contact": ""}
        if r.random() < 0.3:
            row["fax"] = f"{code}-{self.phone(code)}"
        if r.random() < 0.3:
            row["mobile"] = self.mobile()
        return row

    def mobile(self):
        r = self.rng
        while True:
            number = "1" + r.choice("3578") + "".join(str(r.randint(0, 9)) for _ in range(9))
            if number not in self.seen_mobiles:
                self.seen_mobiles.add(number)
                return number

    def customers(self, n):
        for _ in range(n):
            yield self.customer()


@functools.lru_cache(maxsize=1)
def _to_traditional():
    from opencc import OpenCC

    return OpenCC("s2t")  # built once: building one costs more than a thousand conversions


def respell(row, rng):
    """The same company as another salesperson would type it: another spelling of the name
    (another legal form, the region in brackets or dropped, Traditional characters, spaces),
    and the landline without its area code."""
    company = row["company"]
    key = normalize.company_key(company, row["province"], row["city"])
    choice = rng.randrange(4)
    city_short = _short(row["city"])
    if choice == 0:
        company = city_short + "市" + key.core + "有限公司" if not city_short.endswith("市") else city_short + key.core + "有限公司"
    elif choice == 1:
        company = key.core + "有限公司(" + city_short + ")"
    elif choice == 2:
        company = _to_traditional().convert(city_short + key.core + "股份有限公司")
    else:
        company = city_short + " " + key.core + "厂"
    phone = row["phone"].split("-", 1)[-1]
    return {"company": company, "province": row["province"], "city": row["city"], "phone": phone}

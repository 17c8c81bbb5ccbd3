"""The load test's users: salespeople at work (locust).

Each simulated salesperson logs in through the login form (captcha off on the server),
then, with these weights: checks a company on the duplicate-check page (3), opens "my
opportunities" (3: today's view and the whole library, in turn) and writes a contact note
on one of their own customers through the details page's form, with its CSRF token (1).
The plan (logins, their customers, names to check) comes from prepare.py.
"""
import json
import random
import re
from itertools import count
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads((Path(__file__).resolve().parent / "work" / "plan.json").read_text())
LOGINS = sorted(PLAN["owned"])
_next = count()
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _token(html):
    match = _CSRF.search(html)
    return match.group(1) if match else ""


class Salesperson(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self):
        self.login = LOGINS[next(_next) % len(LOGINS)]
        self.own = PLAN["owned"][self.login]
        page = self.client.get("/login", name="/login").text
        self.client.post("/login", name="/login [POST]", data={
            "username": self.login, "password": PLAN["password"], "csrf_token": _token(page)})
        self.views = 0

    @task(3)
    def duplicate_check(self):
        query = random.choice(PLAN["checks"])
        params = {"name": query.get("company", ""), "phone": query.get("phone", ""),
                  "province": query.get("province", ""), "city": query.get("city", "")}
        self.client.get("/dedup/", params={k: v for k, v in params.items() if v}, name="/dedup/")

    @task(3)
    def my_opportunities(self):
        self.views += 1
        if self.views % 2:
            self.client.get("/opportunities/", name="/opportunities/")
        else:
            self.client.get("/opportunities/?show=all", name="/opportunities/?show=all")

    @task(1)
    def contact_note(self):
        opportunity_id = random.choice(self.own)
        page = self.client.get(f"/opportunities/details/?id={opportunity_id}", name="/opportunities/details/").text
        with self.client.post("/opportunities/note/", name="/opportunities/note/ [POST]", catch_response=True,
                              allow_redirects=False, data={
                                  "csrf_token": _token(page), "id": opportunity_id, "method": "phone",
                                  "content": "电话沟通，客户下周再联系", "maturity": "2"}) as response:
            if response.status_code != 302:
                response.failure(f"note refused: {response.status_code}")

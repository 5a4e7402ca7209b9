"""The roles table as a user meets it: the menu each role sees, the role's title, and the
permissions table of the OpenAPI document."""

import re

import pytest

from tests.conftest import login
from workflow import roles

MENU = {"/dispatch": "调度台", "/planner": "网格规划", "/analysis": "热点分析", "/patrols": "巡查", "/m/patrol": "巡查",
        "/m/": "上报",
        "/supervision": "督办清单", "/visits": "走访", "/m/visits": "走访", "/analyses": "分析研判", "/office": "办公室台账", "/tasks": "交办任务", "/m/tasks": "交办任务", "/stats": "统计"}
# The menu of each demo account, as it was before the table: written out, not derived from it.
EXPECTED = {
    "worker001": ("专职网格员", {"/m/patrol", "/m/", "/m/visits", "/m/tasks"}),  # who patrols gets the phone's patrol page
    "leader01": ("网格长", {"/dispatch", "/analysis", "/m/patrol", "/m/", "/supervision", "/visits", "/analyses", "/tasks", "/stats"}),
    "dispatcher1": ("镇综治中心调度员", {"/dispatch", "/planner", "/analysis", "/patrols", "/supervision", "/visits", "/analyses", "/office", "/tasks", "/stats"}),
    "townleader1": ("镇领导", {"/dispatch", "/planner", "/analysis", "/patrols", "/supervision", "/visits", "/analyses", "/office", "/tasks", "/stats"}),
    "dept_huanwei": ("职能部门", {"/dispatch", "/supervision", "/tasks", "/stats"}),
    "district1": ("区网格中心", {"/dispatch", "/planner", "/analysis", "/patrols", "/supervision", "/visits", "/analyses", "/tasks", "/stats"}),
    "planner1": ("网格规划员", {"/planner", "/analysis"}),
    "analyst1": ("数据分析员", {"/analysis"}),
    "admin": ("系统管理员", {"/dispatch", "/planner", "/analysis", "/patrols", "/supervision", "/visits", "/analyses", "/office", "/tasks", "/stats"}),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_menu_and_title(client, username):
    assert login(client, username).status_code == 302
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index('<nav class="right"'):html.index("</nav>")]
    title, links = EXPECTED[username]
    shown = {href for href, text in MENU.items() if re.search(rf'href="{re.escape(href)}">{text}</a>', nav)}
    assert shown == links
    assert f"· {title}</span>" in nav


def test_the_openapi_document_lists_the_table(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert set(doc["x-roles"]) == set(roles.ROLES)
    assert doc["x-roles"]["leader"]["label"] == {"zh": "网格长", "en": "grid leader"}
    assert "see_tracks" in doc["x-roles"]["worker"]["permissions"]
    assert "see_tracks" not in doc["x-roles"]["department"]["permissions"]
    assert doc["x-permissions"]["plan_grids"]["roles"] == ["planner", "admin"]
    assert set(doc["x-permissions"]) == set(roles.PERMISSIONS)
    assert "x-roles" in doc["components"]["securitySchemes"]["bearer"]["description"]


@pytest.mark.parametrize(("username", "href", "phone_href"), [
    ("worker001", "/m/cases", None), ("leader01", "/inbox", "/m/cases"), ("dept_huanwei", "/inbox", None),
    ("dispatcher1", "/inbox", None), ("planner1", "/inbox", None),
])
def test_every_page_shows_the_todo_badge_linking_to_the_desk(client, username, href, phone_href):
    assert client.get("/auth/login").get_data(as_text=True).count('id="inbox-badge"') == 0  # signed out: none
    login(client, username)
    for path in ("/", "/analysis" if username == "planner1" else "/m/" if username == "worker001" else "/inbox"):
        html = client.get(path).get_data(as_text=True)
        badge = html[html.index('<a id="inbox-badge"'):]
        badge = badge[:badge.index("</a>")]
        assert f'href="{href}"' in badge and "待办" in badge
        assert ('data-phone-href="/m/cases"' in badge) == (phone_href is not None)
        assert 'data-src="/api/v1/inbox?limit=0"' in badge
        assert html.count("js/common.js") >= 1 and 'id="menu-toggle"' in html


def test_the_inbox_page_needs_a_login(client):
    response = client.get("/inbox")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    login(client, "dept_huanwei")
    page = client.get("/inbox?lang=en").get_data(as_text=True)
    assert "To do" in page and 'id="ib-rows"' in page and 'id="d-panel"' in page

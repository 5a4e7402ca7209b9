"""The roles table as a user meets it: the menu each role sees and the role's title."""

import re

import pytest

from tests.conftest import login

MENU = {"/dispatch": "调度台", "/planner": "网格规划", "/analysis": "热点分析", "/patrols": "巡查", "/m/": "上报"}
# The menu of each demo account, as it was before the table: written out, not derived from it.
EXPECTED = {
    "worker001": ("专职网格员", {"/patrols", "/m/"}),
    "leader01": ("网格长", {"/dispatch", "/analysis", "/patrols", "/m/"}),
    "dispatcher1": ("镇综治中心调度员", {"/dispatch", "/planner", "/analysis", "/patrols"}),
    "townleader1": ("镇领导", {"/dispatch", "/planner", "/analysis", "/patrols"}),
    "dept_huanwei": ("职能部门", {"/dispatch"}),
    "district1": ("区网格中心", {"/dispatch", "/planner", "/analysis", "/patrols"}),
    "planner1": ("网格规划员", {"/planner", "/analysis"}),
    "analyst1": ("数据分析员", {"/analysis"}),
    "admin": ("系统管理员", {"/dispatch", "/planner", "/analysis", "/patrols"}),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_menu_and_title(client, username):
    assert login(client, username).status_code == 302
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index('<nav class="right">'):html.index("</nav>")]
    title, links = EXPECTED[username]
    shown = {href for href, text in MENU.items() if re.search(rf'href="{re.escape(href)}">{text}</a>', nav)}
    assert shown == links
    assert f"· {title}</span>" in nav


"""Signing in and out, CSRF, language."""

import pytest

from tests.conftest import login


def test_map_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_login_page_is_chinese_first(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page and "密码" in page
    assert 'lang="zh-CN"' in page


def test_english_is_available(client):
    page = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert "Sign in" in page and "Username" in page
    assert 'lang="en"' in page


def test_wrong_password_is_refused_with_a_message(client):
    response = login(client, "dispatcher1", "wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username", ["' OR '1'='1", "x" * 65, ""])
def test_odd_usernames_are_refused(client, username):
    assert login(client, username, "demo").status_code in (400, 401)


def test_login_shows_the_map_and_logout_ends_it(client):
    assert login(client, "dispatcher1").status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "网格地图" in page and "合成演示数据" in page
    assert client.post("/auth/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_next_does_not_redirect_off_site(client):
    response = client.post("/auth/login?next=//evil.example/x", data={"username": "dispatcher1", "password": "demo"})
    assert response.headers["Location"] == "/dispatch"  # the dispatcher's landing, not the other site


def test_login_form_needs_its_csrf_token(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = login(client, "dispatcher1")
        assert response.status_code == 400
        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        ok = client.post("/auth/login", data={"username": "dispatcher1", "password": "demo", "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_api_without_login_is_401_json(client):
    response = client.get("/api/v1/incidents")
    assert response.status_code == 401
    assert "请先登录" in response.get_json()["message_zh"]


def test_http_basic_for_tools(client):
    import base64

    token = base64.b64encode(b"dispatcher1:demo").decode()
    response = client.get("/api/v1/me", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200
    assert response.get_json()["role"] == "dispatcher"
    bad = base64.b64encode(b"dispatcher1:nope").decode()
    assert client.get("/api/v1/me", headers={"Authorization": f"Basic {bad}"}).status_code == 401


def test_phone_page_and_board_in_english(client, connection):
    from sqlalchemy import text

    login(client, "worker001")
    page = client.get("/m/?lang=en").get_data(as_text=True)
    assert "Report an incident" in page and "Use my location" in page
    code = connection.execute(text("SELECT min(code) FROM grids")).scalar()
    board = client.get(f"/grids/{code}?lang=en").get_data(as_text=True)
    assert "Supervision phone" in board and "Duties" in board
    assert "监督电话" in client.get(f"/grids/{code}?lang=zh").get_data(as_text=True)

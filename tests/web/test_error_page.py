"""The error page speaks one language at a time: Chinese by default, English when asked for
(``?lang=en`` or the remembered choice), as every page: an English browser still gets Chinese."""


from tests.conftest import login

MISSING = "/no-such-page"


def _page(client, path=MISSING, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 404
    return response.get_data(as_text=True)


def test_the_404_page_is_chinese_by_default(client):
    html = _page(client)
    assert '<html lang="zh-CN">' in html
    assert "404 · 未找到" in html and "您要找的页面不存在" in html and "返回首页" in html
    for english in ("Not found", "The requested URL", "Back to the map"):
        assert english not in html


def test_the_404_page_is_english_when_asked(client):
    html = _page(client, MISSING + "?lang=en")
    assert '<html lang="en">' in html
    assert "404 · Not found" in html and "The requested URL was not found" in html and "Back to the map" in html
    for chinese in ("未找到", "您要找的页面不存在", "返回首页"):
        assert chinese not in html


def test_the_browser_language_does_not_choose_but_the_remembered_choice_does(client):
    assert "未找到" in _page(client, **{"Accept-Language": "en-US,en;q=0.9"})
    client.get("/auth/login?lang=en")  # remembered in a cookie
    assert "Not found" in _page(client, **{"Accept-Language": "zh-CN"})
    assert "未找到" in _page(client, MISSING + "?lang=zh")


def test_a_refused_record_speaks_the_readers_language(client):
    login(client, "dispatcher1")
    zh = _page(client, "/grids/120116103999999")
    en = _page(client, "/grids/120116103999999?lang=en")
    assert "没有这个网格" in zh and "no such grid" not in zh
    assert "no such grid" in en and "没有这个网格" not in en and "未找到" not in en


def test_the_api_still_answers_json_in_both_languages(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json
    body = response.get_json()
    assert body["message_zh"] == "未找到" and body["message_en"]

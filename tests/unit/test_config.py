"""Settings read from the environment: the near-boundary distance has one default and one reader."""

import pytest

from webmap.config import DEFAULT_NEAR_BOUNDARY_M, ConfigError, Settings, near_boundary_m


def test_near_boundary_default_and_setting(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.delenv("WANGGE_NEAR_BOUNDARY_M", raising=False)
    assert near_boundary_m() == Settings().NEAR_BOUNDARY_M == float(DEFAULT_NEAR_BOUNDARY_M) == 50.0
    monkeypatch.setenv("WANGGE_NEAR_BOUNDARY_M", "120")
    assert near_boundary_m() == Settings().NEAR_BOUNDARY_M == 120.0


@pytest.mark.parametrize("raw", ["abc", "-1", "1001"])
def test_a_bad_near_boundary_setting_is_refused(monkeypatch, raw):
    monkeypatch.setenv("WANGGE_NEAR_BOUNDARY_M", raw)
    with pytest.raises(ConfigError, match="WANGGE_NEAR_BOUNDARY_M"):
        near_boundary_m()

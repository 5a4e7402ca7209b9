import pytest

from spatial.codes import grid_code, split_grid_code, west_east_north_south


def test_grid_code_layout():
    code = grid_code("120116", "103", "201", 7)
    assert code == "120116103201007" and len(code) == 15
    assert split_grid_code(code) == {
        "division": "120116", "town": "120116103", "village": "120116103201", "seq": "007",
    }


@pytest.mark.parametrize("bad", ["12011610320100", "1201161032010071", "12011610320100x", "", None,
                                 "1' OR '1'='1", "120116103201007\n"])
def test_malformed_codes_are_refused(bad):
    with pytest.raises(ValueError):
        split_grid_code(bad)


def test_sequence_over_999_is_refused():
    with pytest.raises(ValueError):
        grid_code("120116", "103", "201", 1000)


def test_numbering_rows_north_to_south_then_west_to_east():
    # two rows: north (y≈10) and south (y≈0), given in scrambled order
    xs = [5, 1, 9, 2, 8]
    ys = [10.2, 9.9, 10.0, 0.1, -0.2]
    order = west_east_north_south(xs, ys, row_height=3).tolist()
    assert order == [1, 0, 2, 3, 4]

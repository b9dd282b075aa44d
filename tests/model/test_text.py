from hydra.model.text import printable


def test_control_bytes_become_visible():
    assert printable("a\x1b]0;title\x07b") == "a\\x1b]0;title\\x07b"
    assert printable("x\x9by\x7f") == "x\\x9by\\x7f"
    assert printable("line\nbreak") == "line\\x0abreak"
    assert printable("line\nbreak", keep_newlines=True) == "line\nbreak"


def test_markup_like_text_is_untouched():
    for text in ("arr[i]", "[/]", "[bold]x[/bold]", "[@click=app.quit]q[/]"):
        assert printable(text) == text

from hydra.model.text import printable


def test_control_bytes_become_visible():
    assert printable("a\x1b]0;title\x07b") == "a\\x1b]0;title\\x07b"
    assert printable("x\x9by\x7f") == "x\\x9by\\x7f"
    assert printable("line\nbreak") == "line\\x0abreak"
    assert printable("line\nbreak", keep_newlines=True) == "line\nbreak"


def test_markup_like_text_is_untouched():
    for text in ("arr[i]", "[/]", "[bold]x[/bold]", "[@click=app.quit]q[/]"):
        assert printable(text) == text


def test_invisible_characters_that_reorder_or_hide_text_become_visible():
    # an override that makes "exe.txt" read as "txt.exe", zero-width and line separators
    assert printable("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert printable("a\u200bb\u2066c\u2069d\u2028e\ufeff") == "a\\u200bb\\u2066c\\u2069d\\u2028e\\ufeff"
    assert printable("naïve 東京 ünïcödé") == "naïve 東京 ünïcödé"


def test_printable_text_holds_no_character_that_is_escaped():
    """printable() returns text that str.isprintable() accepts as it is: that is right only
    while every escaped character is one isprintable() refuses."""
    import re

    from hydra.model.text import CONTROL_CHARACTERS

    accepted = "".join(chr(code) for code in range(0x110000) if chr(code).isprintable())
    assert re.search(CONTROL_CHARACTERS, accepted) is None
    assert printable("a\u202eb") == "a\\u202eb" and printable("a\u00adb") == "a\\xadb"

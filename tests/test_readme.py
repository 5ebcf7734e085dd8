"""The README's settings table is the settings model's, so the two cannot drift."""

from pathlib import Path

from api.core.settings import settings_table

README = Path(__file__).resolve().parents[1] / "README.md"
START = (
    "<!-- settings table: generated from api/core/settings.py by `make docs`; "
    "a test keeps it current -->\n"
)
END = "<!-- end of settings table -->"


def test_readme_settings_table_is_generated_from_the_settings_model() -> None:
    text = README.read_text()
    assert START in text and END in text, "the README lost its settings table markers"
    current = text.split(START, 1)[1].split(END, 1)[0]
    assert current == settings_table(), "README settings table is stale: run `make docs`"


if __name__ == "__main__":  # `make docs`: rewrite the table in place
    text = README.read_text()
    before, rest = text.split(START, 1)
    README.write_text(before + START + settings_table() + END + rest.split(END, 1)[1])
    print(f"wrote the settings table in {README.name}")

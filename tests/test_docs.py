"""The README and docs/ are complete inside the repository (issue 11): every relative link
points to a file of the project (and, with a #fragment, to one of its headings), and none
leaves the repository (such as the former ../shared/RULES.md)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def heading_slugs(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    slugs = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            text = line.lstrip("#").strip().lower()
            slugs.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return slugs


def relative_links(doc: Path) -> list[str]:
    return [target for target in LINK.findall(doc.read_text(encoding="utf-8"))
            if not re.match(r"^[a-z]+:", target)]


def test_the_rules_and_formats_are_documents_of_the_project():
    assert (ROOT / "docs" / "rules.md").is_file() and (ROOT / "docs" / "formats.md").is_file()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(doc):
    for target in relative_links(doc):
        path, _, fragment = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        assert resolved.is_relative_to(ROOT), f"{doc.name}: {target} leaves the repository"
        assert resolved.exists(), f"{doc.name}: {target} does not exist"
        if fragment:
            assert fragment in heading_slugs(resolved), f"{doc.name}: {target} names no heading"


def test_every_rule_id_has_its_entry_in_the_rules():
    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for number in range(1, 15):
        assert re.search(rf"\*\*R{number} ", rules), f"R{number} has no entry in docs/rules.md"

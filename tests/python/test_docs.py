"""The front door and the docs stay usable: README.md is short, says how to install, keeps the two commands
CI relies on, and every relative link in README.md and docs/ (files, images, #anchors) resolves."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose(path: Path) -> str:
    """The text outside fenced code blocks and inline code (a `[x](y)` there is code, not a link)."""
    kept, fenced = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in prose(path).splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return found


def test_every_relative_link_resolves():
    broken = []
    for doc in documents():
        for target in LINK.findall(prose(doc)):
            if re.match(r"[a-z]+:", target):  # https:, mailto: ...
                continue
            file, _, anchor = target.partition("#")
            path = (doc.parent / file).resolve() if file else doc
            if not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{doc.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert "pip install containerjob" in text and "pip install ." in text
    # .ci/run runs "the README's test command"; the quickstart is the main job
    assert "\n    bash .ci/quickstart\n" in text and "\n    bash .ci/test\n" in text
    assert "exec bash .ci/test" in (ROOT / ".ci" / "run").read_text()


def test_the_docs_name_modules_that_exist():
    """docs/design.md lists the package's modules: each `name.py` it names exists, and each module is named."""
    text = (ROOT / "docs" / "design.md").read_text()
    design = text[text.index("### `python_pkg/containerjob/`"):text.index("### `js_src/`")]
    package = ROOT / "python_pkg" / "containerjob"
    modules = {p.name for p in package.rglob("*.py") if p.name != "__init__.py" and p.name != "_version.py"}
    named = set(re.findall(r"`(?:[\w/]+/)?(\w+\.py)`", design))
    assert not named - modules, sorted(named - modules)
    assert not modules - named, sorted(modules - named)

"""The inline SVG chart: accessible, CSP-safe, escaped, and a faithful text alternative."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from delphi.web.charts import distribution_svg, distribution_text

COUNTS = [0, 1, 0, 2, 1, 3, 6, 5, 2]


def test_the_text_alternative_names_every_point_and_the_readers_rating() -> None:
    text = distribution_text(COUNTS, 1, highlight=7)
    assert text.startswith("Ratings from 1 to 9. 1: 0 people. 2: 1 person. 3: 0 people.")
    assert "7: 6 people." in text and text.endswith("Your rating: 7.")
    assert distribution_text([0, 0, 0], 1) == "Nobody rated this."
    assert distribution_text([], 1) == "Nobody rated this."


def test_the_chart_is_an_image_named_by_its_title_and_described_by_its_counts() -> None:
    svg = distribution_svg(
        COUNTS, 1, chart_id="c-1", title="How the panel rated this", highlight=7, band=(7, 9)
    )
    root = ET.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-1-title c-1-desc"
    assert root.find(f"{ns}title").text == "How the panel rated this"  # type: ignore[union-attr]
    assert "7: 6 people" in root.find(f"{ns}desc").text  # type: ignore[union-attr,operator]
    bars = root.findall(f"{ns}rect[@class]")
    own = [b for b in bars if "chart-bar--own" in (b.get("class") or "")]
    assert len(own) == 1
    assert (
        len([b for b in bars if (b.get("class") or "").startswith("chart-bar")]) == 7
    )  # zero bars not drawn
    assert root.findall(f"{ns}rect[@class='chart-band']")
    assert "You" in [t.text for t in root.findall(f"{ns}text")]


def test_the_chart_needs_no_inline_style_and_escapes_text() -> None:
    svg = str(distribution_svg([1, 2], 1, chart_id='x"><script>', title="<b>&</b>", highlight=99))
    assert "style=" not in svg and "<script" not in svg and "<b>" not in svg
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in svg
    assert re.search(r'id="xscript-title"', svg)
    assert "chart-bar--own" not in svg  # a highlight off the scale is ignored
    ET.fromstring(svg)


def test_the_chart_translates_its_words() -> None:
    svg = str(
        distribution_svg(
            [1],
            5,
            chart_id="t",
            title="T",
            highlight=5,
            gettext=lambda m: {"You": "Chi"}.get(m, m),
            ngettext=lambda s, p, n: s if n == 1 else p,
        )
    )
    assert ">Chi</text>" in svg


def test_an_empty_distribution_draws_an_axis() -> None:
    root = ET.fromstring(str(distribution_svg([0, 0, 0, 0, 0], 1, chart_id="e", title="Empty")))
    assert root.find("{http://www.w3.org/2000/svg}line") is not None

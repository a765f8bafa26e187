"""Tests of planner.charts: every chart writes a readable PNG, for typical and degenerate inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from planner import charts
from planner.money import MILLIONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PERIODS = ["2025", "2026", "2027", "2028"]
SCENARIOS = ["low", "base", "high"]


def assert_png(path: Path) -> None:
    """``path`` exists, starts with the PNG signature and reads back as a non-empty image."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 0 and image.shape[1] > 0


def capacity_frame(scenarios: list[str], periods: list[str], scale: float = 1.0) -> pd.DataFrame:
    rows = []
    for k, scenario in enumerate(scenarios):
        for t, period in enumerate(periods):
            demand = scale * (10 + 5 * t) * (1 + 0.3 * k)
            rows.append({
                "scenario": scenario, "period": period, "installed_eflops": 1.1 * demand,
                "served_eflops": demand, "demand_eflops": demand,
            })
    return pd.DataFrame(rows)


def stranded_frame(scenarios: list[str], peak: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"stranded_capital_musd_peak": [peak * (i + 1) for i in range(len(scenarios))],
         "probability": [1 / len(scenarios)] * len(scenarios)},
        index=pd.Index(scenarios, name="scenario"),
    )


def capex_frame(periods: list[str], scale: float) -> pd.DataFrame:
    df = pd.DataFrame(
        {"buildings_capex": [scale * 100 * (i + 1) for i in range(len(periods))],
         "chips_capex": [scale * 300.0] * len(periods),
         "power_capex": [scale * 50.0] * len(periods)},
        index=pd.Index(periods, name="period"),
    )
    df["total"] = df.sum(axis=1)
    return df


EMPTY_CAPACITY = pd.DataFrame(
    columns=["scenario", "period", "installed_eflops", "served_eflops", "demand_eflops"]
)
EMPTY_STRANDED = pd.DataFrame(columns=["stranded_capital_musd_peak", "probability"])
EMPTY_CAPEX = pd.DataFrame(columns=["buildings_capex", "chips_capex", "power_capex", "total"])


@pytest.fixture(autouse=True)
def no_leaked_figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every chart function closes the figures it opens (drawn at a low dpi to keep tests fast)."""
    monkeypatch.setattr(charts, "DPI", 50)
    before = len(plt.get_fignums())
    yield
    assert len(plt.get_fignums()) == before


# --- capacity vs demand -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capacity",
    [
        {"flexible": capacity_frame(SCENARIOS, PERIODS), "upfront": capacity_frame(SCENARIOS, PERIODS, 1.2)},
        {"only": capacity_frame(["base"], PERIODS)},
        {"only": capacity_frame(["base"], ["2025"])},
        {"zeros": capacity_frame(SCENARIOS, PERIODS, 0.0)},
        {"empty": EMPTY_CAPACITY, "typical": capacity_frame(SCENARIOS, PERIODS)},
        {"empty": EMPTY_CAPACITY},
        {"no columns": pd.DataFrame({"x": [1]})},
        {},
    ],
    ids=["typical", "one-scenario", "one-period", "zeros", "one-empty", "all-empty", "bad", "none"],
)
def test_capacity_vs_demand(tmp_path: Path, capacity: dict[str, pd.DataFrame]) -> None:
    out = charts.plot_capacity_vs_demand(capacity, tmp_path / "sub" / "capacity.png")
    assert out == tmp_path / "sub" / "capacity.png"
    assert_png(out)


# --- stranded capital ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stranded",
    [
        {"flexible": stranded_frame(SCENARIOS, 200.0), "upfront": stranded_frame(SCENARIOS, 900.0)},
        {"only": stranded_frame(["base"], 500.0)},
        {"zeros": stranded_frame(SCENARIOS, 0.0), "more zeros": stranded_frame(SCENARIOS, 0.0)},
        {"a": stranded_frame(["low"], 100.0), "b": stranded_frame(["high"], 300.0)},
        {"empty": EMPTY_STRANDED},
        {},
    ],
    ids=["typical", "one-scenario", "zeros", "disjoint", "empty", "none"],
)
def test_stranded_capital(tmp_path: Path, stranded: dict[str, pd.DataFrame]) -> None:
    assert_png(charts.plot_stranded_capital(stranded, tmp_path / "stranded.png"))


# --- capex by period ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capex",
    [
        {"flexible": capex_frame(PERIODS, 1.0), "upfront": capex_frame(PERIODS, 2.0)},
        {"only": capex_frame(["2025"], 1.0)},
        {"zeros": capex_frame(PERIODS, 0.0)},
        {"total only": capex_frame(PERIODS, 1.0)[["total"]]},
        {"stacked": capex_frame(PERIODS[:2], 1.0), "total only": capex_frame(PERIODS, 1.0)[["total"]]},
        {"empty": EMPTY_CAPEX},
        {},
    ],
    ids=["typical", "one-period", "zeros", "total-only", "mixed", "empty", "none"],
)
def test_capex_by_year(tmp_path: Path, capex: dict[str, pd.DataFrame]) -> None:
    assert_png(charts.plot_capex_by_year(capex, tmp_path / "capex.png"))


def test_capex_parts_show_uncovered_total_as_other_and_fill_missing_periods() -> None:
    df = capex_frame(["2025", "2026"], 1.0)
    df.loc["2026", "total"] = cast(float, df.loc["2026", "total"]) + 20.0  # stubs: any scalar
    parts = charts._capex_parts(df, ["2025", "2026", "2027"])
    assert list(parts) == ["Buildings", "Chips", "Power", "other"]
    assert list(parts["other"]) == pytest.approx([0.0, 20.0, 0.0])
    assert list(parts["Chips"]) == pytest.approx([300.0, 300.0, 0.0])
    only_total = charts._capex_parts(df[["total"]], ["2025"])
    assert list(only_total) == ["total"] and list(only_total["total"]) == pytest.approx([450.0])


def test_capex_parts_leave_only_round_off_out_of_other() -> None:
    """2025's total is 450 (100 + 300 + 50). A total 0.01 above its kinds (1 in 45,000, far above
    round-off: the edge is 1e-6 x 450 = 0.00045) is an "other" part; 1e-10 above is round-off."""
    df = capex_frame(["2025"], 1.0)
    df.loc["2025", "total"] = cast(float, df.loc["2025", "total"]) + 0.01  # stubs: any scalar
    parts = charts._capex_parts(df, ["2025"])
    assert list(parts) == ["Buildings", "Chips", "Power", "other"]
    assert list(parts["other"]) == pytest.approx([0.01])
    df.loc["2025", "total"] = 450.0 + 1e-10
    assert list(charts._capex_parts(df, ["2025"])) == ["Buildings", "Chips", "Power"]


# --- tornado ------------------------------------------------------------------------------------

VARIANTS = pd.DataFrame(
    {
        "case": ["demand_low", "demand_high", "price_low", "price_high", "capex_low", "failed",
                 "lonely", "ungrouped"],
        "group": ["demand", "demand", "price", "price", "capex", "capex", "single", " "],
        "objective_musd": [9000.0, 14000.0, 11500.0, 12200.0, 10500.0, np.nan, 13000.0, 1.0],
    }
)


def test_tornado_spans_reach_from_base_skip_missing_and_sort_widest_last() -> None:
    """Bars reach from the base out: ``price`` (-0.5 to +0.2) spans 0.7, ``single`` (+1) 1, ``capex``
    (-1.5) 1.5, ``demand`` (-3 to +2) 5; the ungrouped variant (-11.999) is a bar of its own."""
    spans = charts._tornado_spans(VARIANTS, 12.0)
    assert list(spans["group"]) == ["price", "single", "capex", "demand", "ungrouped"]
    assert list(spans["span"]) == pytest.approx([0.7, 1.0, 1.5, 5.0, 11.999])
    demand = spans.iloc[3]
    assert (demand["lo_case"], demand["hi_case"]) == ("demand_low", "demand_high")
    assert demand["lo"] == pytest.approx(-3.0) and demand["hi"] == pytest.approx(2.0)


OUTCOMES = pd.DataFrame(
    {
        "case": ["cheap", "slow", "bad1", "bad2", "fine", "bad3"],
        "group": ["g", "g", "h", "h", "k", "k"],
        "status": ["optimal", "time_limit", "failed", "failed", "optimal", "failed"],
        "objective_musd": [11000.0, 13670.0, np.nan, np.nan, 12500.0, np.nan],
        "mip_gap": [0.0, 0.85, np.nan, np.nan, 0.004, np.nan],
        "within_mip_gap": [True, False, None, None, True, None],
    }
)


def test_tornado_spans_name_unproven_ends_and_count_failed_variants() -> None:
    """A sweep saw a time-limited variant (85% gap, +1,670 $M where its optimum was +14) drawn as a
    solid bar, and groups of failed variants vanish. ``slow`` keeps its bar but its label gives status
    and gap; ``h`` (both failed) keeps a row of its own; ``k`` counts its failed variant."""
    spans = charts._tornado_spans(OUTCOMES, 12.0).set_index("group")
    g, h, k = spans.loc["g"], spans.loc["h"], spans.loc["k"]
    assert (g["lo"], g["hi"]) == pytest.approx((-1.0, 1.67))
    assert (g["lo_case"], g["hi_case"], g["lo_unproven"], g["hi_unproven"], g["failed"]) == (
        "cheap", "slow (time_limit, gap 85.0%)", False, True, 0)
    assert np.isnan(h["lo"]) and np.isnan(h["hi"]) and (h["span"], h["failed"]) == (0, 2)
    assert (k["lo_case"], k["hi_case"], k["hi_unproven"], k["failed"]) == ("fine", "fine", False, 1)
    assert list(spans.index) == ["h", "k", "g"]  # narrowest first: the widest bar on top


def test_tornado_hatches_unproven_bars_and_says_which_groups_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = _kept_figures(monkeypatch)
    assert_png(charts.plot_tornado(OUTCOMES, 12000.0, tmp_path / "tornado.png"))
    ax = figures[0].axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["h (2 failed)", "k (1 failed)", "g"]
    texts = [t.get_text() for t in ax.texts]
    assert "every variant failed" in texts and "slow (time_limit, gap 85.0%)" in texts
    bars = [patch for container in ax.containers for patch in container]
    hatched = [(round(patch.get_y() + patch.get_height() / 2), patch.get_x() >= 0)
               for patch in bars if patch.get_hatch()]
    assert hatched == [(2, True)]  # g's dearer half, whose end stopped at its time limit
    legend = ax.get_legend()
    assert legend is not None
    assert "an end not within its MIP gap (status, gap)" in [t.get_text() for t in legend.texts]


@pytest.mark.filterwarnings("error")
def test_tornado_of_names_the_font_cannot_draw_or_too_long_to_fit(tmp_path: Path) -> None:
    """CJK and emoji names are boxes on the chart (DejaVu Sans lacks them), and a 300-character name
    is cut: neither may print matplotlib warnings on the user's stderr."""
    variants = VARIANTS.assign(case=["需求低", "🚀 high", "x" * 300, *VARIANTS["case"][3:]])
    assert_png(charts.plot_tornado(variants, 12000.0, tmp_path / "tornado.png"))


def test_tornado_names_a_variant_right_of_its_bar_only_when_dearer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Base 12 $B. ``dear`` (13: +1) is a bar of its own reaching right: its name is written right
    of it (left-aligned). ``same`` (12: +0) is not dearer: its name goes left of the base, like a
    cheaper variant's (right-aligned), as does ``cheap`` (11: -1)."""
    figures = _kept_figures(monkeypatch)
    variants = pd.DataFrame({"case": ["dear", "same", "cheap"], "group": ["", "", ""],
                             "objective_musd": [13000.0, 12000.0, 11000.0]})
    assert_png(charts.plot_tornado(variants, 12000.0, tmp_path / "t.png"))
    align = {t.get_text(): t.get_horizontalalignment() for t in figures[0].axes[0].texts}
    assert align == {"dear": "left", "same": "right", "cheap": "right"}


def test_names_are_cut_past_forty_characters_only() -> None:
    """A name of 40 characters (LABEL_CHARS) is drawn whole; one of 41 keeps 39 and an ellipsis."""
    assert charts._short("x" * 40) == "x" * 40
    assert charts._short("x" * 41) == "x" * 39 + "…"


@pytest.mark.parametrize(
    "variants, base",
    [
        (VARIANTS, 12000.0),
        (VARIANTS.iloc[:1], 12000.0),
        (VARIANTS.assign(objective_musd=12000.0), 12000.0),
        (VARIANTS.assign(objective_musd=np.nan), 12000.0),
        (VARIANTS.assign(group=None), 12000.0),
        (VARIANTS.iloc[:0], 12000.0),
        (VARIANTS, float("nan")),
        (pd.DataFrame(), 0.0),
    ],
    ids=["typical", "one-variant", "all-equal", "no-objective", "no-group", "empty", "nan-base",
         "no-columns"],
)
def test_tornado(tmp_path: Path, variants: pd.DataFrame, base: float) -> None:
    assert_png(charts.plot_tornado(variants, base, tmp_path / "tornado.png"))


# --- names with mathtext syntax -----------------------------------------------------------------

MATH_NAMES = ["rate $6% to $12%", "a_$x$_b", r"$\foo$ C:\dir", r"$\bar{$ {x}^2"]
"""Names matplotlib would read as math: invalid (ValueError when saving) or valid ($x$ in italics)."""


def _math_named_charts(folder: Path) -> dict[str, Callable[[], Path]]:
    """Each chart function drawn with every name in MATH_NAMES as strategy, scenario, period or variant."""
    a, b, c, d = MATH_NAMES
    capex = capex_frame([c, d], 1.0)
    variants = pd.DataFrame({"case": [a, b, c, d], "group": [d, d, "", a],
                             "objective_musd": [9000.0, 14000.0, 13000.0, 11000.0]})
    return {
        "capacity": lambda: charts.plot_capacity_vs_demand(
            {a: capacity_frame([b, c], [d, "2026"]), d: capacity_frame([b], [d])}, folder / "capacity.png"),
        "stranded": lambda: charts.plot_stranded_capital(
            {a: stranded_frame([b, c], 200.0), d: stranded_frame([b], 900.0)}, folder / "stranded.png"),
        "capex": lambda: charts.plot_capex_by_year({a: capex, b: capex}, folder / "capex.png"),
        "tornado": lambda: charts.plot_tornado(variants, 12000.0, folder / "tornado.png"),
    }


def _kept_figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the charts draw from now on, kept open for their texts to be read."""
    figures: list[Figure] = []
    save = charts._save

    def keep(fig: Figure, path: Path, title: str) -> Path:
        figures.append(fig)
        return save(fig, path, title)

    monkeypatch.setattr(charts, "_save", keep)
    return figures


@pytest.mark.parametrize("chart", ["capacity", "stranded", "capex", "tornado"])
def test_names_with_dollars_and_backslashes_are_drawn_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chart: str
) -> None:
    """A sweep group "rate $6% to $12%" or a scenario "price_$5_to_$10" made matplotlib raise ValueError
    while saving, and the whole compare or sweep ended in an internal error. Every text on the chart
    (titles, ticks, legends, annotations) is now literal, planner's own "$B" labels included."""
    figures = _kept_figures(monkeypatch)
    assert_png(_math_named_charts(tmp_path)[chart]())
    assert plt.rcParams["text.parse_math"]  # the setting is only changed while drawing
    texts = [t for t in figures[0].findobj(Text) if t.get_text()]
    assert not [t.get_text() for t in texts if t.get_parse_math()]
    drawn = "\n".join(t.get_text() for t in texts)
    assert all(name in drawn for name in MATH_NAMES)
    assert "$B" in drawn or chart == "capacity"


# --- HTML ---------------------------------------------------------------------------------------


def test_write_html(tmp_path: Path) -> None:
    image = charts.plot_stranded_capital(
        {"flexible": stranded_frame(SCENARIOS, 200.0)}, tmp_path / "figs" / "stranded.png"
    )
    table = pd.DataFrame({"strategy": ["flexible", "failed"], "objective_busd": [12.3456789, np.nan]})
    page = charts.write_html(
        tmp_path / "report.html",
        "Plan <comparison>",
        [("Stranded capital", image), ("Objectives", table), ("Notes", "cost < 5 & risk")],
    )
    assert page == tmp_path / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "<h1>Plan &lt;comparison&gt;</h1>" in text
    for heading in ("Stranded capital", "Objectives", "Notes"):
        assert f"<h2>{heading}</h2>" in text
    assert 'src="figs/stranded.png"' in text
    assert str(tmp_path) not in text
    assert 'class="dataframe table"' in text
    assert "flexible" in text and "12.346" in text and "12.3456789" not in text
    assert "NaN" not in text and "<th>0</th>" not in text  # no blank-objective NaN, no row numbers
    indexed = charts.write_html(tmp_path / "indexed.html", "t", [("t", table.set_index("strategy"))])
    assert "<th>flexible</th>" in indexed.read_text(encoding="utf-8")
    assert "<p>cost &lt; 5 &amp; risk</p>" in text


def test_html_tables_keep_small_shares_and_gaps() -> None:
    """A gap of 0.004999 and an idle share of 0.00613 were shown as 0.005 and 0.006."""
    assert [charts.html_number(v) for v in (0.004999, 0.00613, 0.0, -0.25, 12.3456789, 104375.4908)] == [
        "0.004999", "0.00613", "0", "-0.25", "12.346", "104,375.491"
    ]


def test_html_numbers_from_one_up_have_three_decimals() -> None:
    """1 itself is a figure from 1 up (1.000, like 12.346), as is -1; 0.9999 keeps 4 significant
    digits."""
    assert [charts.html_number(v) for v in (1.0, -1.0, 0.9999)] == ["1.000", "-1.000", "0.9999"]


def test_write_html_image_src_is_a_url(tmp_path: Path) -> None:
    """A sweep of several models draws tornado-<model>.png; a model named "v#2 50%" gave
    src="tornado-v#2 50%.png", which a browser reads as tornado-v and a fragment."""
    image = tmp_path / "tornado-v#2 50%.png"
    image.write_bytes(b"")
    text = charts.write_html(tmp_path / "index.html", "t", [("t", image)]).read_text(encoding="utf-8")
    assert 'src="tornado-v%232%2050%25.png"' in text


def test_write_html_empty_sections(tmp_path: Path) -> None:
    text = charts.write_html(tmp_path / "empty.html", "Nothing", []).read_text(encoding="utf-8")
    assert "<h1>Nothing</h1>" in text and "<h2>" not in text


@pytest.mark.parametrize("chart", ["stranded", "capex", "tornado"])
def test_money_charts_draw_in_the_unit_they_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chart: str
) -> None:
    """A sweep of inputs/tiny drew "base objective 0.010 $B" on a ±0.0015 axis; the reports
    choose $M for such a run and hand the charts the same unit."""
    figures = _kept_figures(monkeypatch)
    variants = pd.DataFrame({"case": ["cheap", "dear"], "group": ["", ""], "objective_musd": [9.5, 10.5]})
    draw = {
        "stranded": lambda: charts.plot_stranded_capital(
            {"phased": stranded_frame(["hi", "lo"], 4.0)}, tmp_path / "s.png", MILLIONS),
        "capex": lambda: charts.plot_capex_by_year(
            {"phased": capex_frame(["p1", "p2"], 1.0)}, tmp_path / "c.png", MILLIONS),
        "tornado": lambda: charts.plot_tornado(variants, 10.0, tmp_path / "t.png", MILLIONS),
    }
    assert_png(draw[chart]())
    drawn = "\n".join(t.get_text() for t in figures[0].findobj(Text))
    assert "$M" in drawn and "$B" not in drawn
    if chart == "tornado":
        assert "base objective 10.000 $M" in drawn


# --- tick labels that never overlap -------------------------------------------------------------

QUARTERS = [f"{year}Q{q}" for year in range(2026, 2036) for q in range(1, 5)]
LONG_SCENARIOS = [f"stage{i // 9 + 1}_{['boom', 'plateau', 'slump'][i % 3]}_{i}" for i in range(27)]


def _x_tick_labels_overlap(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of neighbouring x tick labels whose drawn boxes overlap, on any panel of ``fig``."""
    canvas = FigureCanvasAgg(fig)  # the chart closed its figure: draw it on a canvas of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    clashes = []
    for ax in fig.axes:
        shown = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in shown]
        for i in range(len(shown) - 1):
            (a, box_a), (b, box_b) = (shown[i], boxes[i]), (shown[i + 1], boxes[i + 1])
            # Turned labels are parallelograms: their boxes may touch; text overlaps once one box
            # passes the other's anchor side by more than half its width.
            if box_a.overlaps(box_b) and box_b.x0 < box_a.x1 - box_a.width / 2:
                clashes.append((a.get_text(), b.get_text()))
    return clashes


@pytest.mark.parametrize(
    "chart",
    ["capacity-quarters", "capacity-years", "capex-quarters", "stranded-27", "stranded-4"],
)
def test_x_tick_labels_do_not_overlap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chart: str) -> None:
    """40 quarters in three strategy panels, or 27 scenario names under one chart, were drawn on top
    of each other: labels now turn, and only every k-th is written where even turned they would not
    fit. Every position keeps its tick."""
    figures = _kept_figures(monkeypatch)
    strategies = ["phased", "all-at-once", "plan-on-mean"]
    draw = {
        "capacity-quarters": lambda: charts.plot_capacity_vs_demand(
            {s: capacity_frame(SCENARIOS, QUARTERS) for s in strategies}, tmp_path / "c.png"),
        "capacity-years": lambda: charts.plot_capacity_vs_demand(
            {s: capacity_frame(SCENARIOS, QUARTERS[::4]) for s in strategies}, tmp_path / "c.png"),
        "capex-quarters": lambda: charts.plot_capex_by_year(
            {s: capex_frame(QUARTERS, 1.0) for s in strategies}, tmp_path / "x.png"),
        "stranded-27": lambda: charts.plot_stranded_capital(
            {s: stranded_frame(LONG_SCENARIOS, 100.0) for s in strategies}, tmp_path / "s.png"),
        "stranded-4": lambda: charts.plot_stranded_capital(
            {s: stranded_frame(LONG_SCENARIOS[:4], 100.0) for s in strategies}, tmp_path / "s.png"),
    }[chart]
    assert_png(draw())
    fig = figures[0]
    assert _x_tick_labels_overlap(fig) == []
    positions = 40 if "quarters" in chart else 10 if "years" in chart else 27 if "27" in chart else 4
    for ax in fig.axes:
        assert set(ax.get_xticks()) | set(ax.get_xticks(minor=True)) == set(range(positions))
        first = [t.get_text() for t in ax.get_xticklabels() if t.get_text()][0]
        assert first.splitlines()[0] in (QUARTERS[0], LONG_SCENARIOS[0])


@pytest.mark.parametrize(
    ("labels", "turned"),
    [
        ([f"period_{i:05d}" for i in range(8)], True),
        ([f"scenario_{i}\n(p=0.11)" for i in range(9)], False),
    ],
    ids=["8-of-12-characters", "9-of-two-lines"],
)
def test_labels_turn_only_when_they_do_not_fit_side_by_side(labels: list[str], turned: bool) -> None:
    """One panel gives labels 11 x 0.85 = 9.35 in; each takes its longest line plus 2 characters
    of 0.085 in. 8 labels of 12 characters need 8 x 14 x 0.085 = 9.52 in: turned by 45 degrees.
    9 scenario labels whose longer line is the 10-character name (the probability under it has 8)
    need 9 x 12 x 0.085 = 9.18 in: flat, every one written."""
    fig, ax = plt.subplots(figsize=charts.FIGSIZE)
    try:
        charts._category_ticks(ax, labels)
        shown = [t for t in ax.get_xticklabels() if t.get_text()]
        assert [t.get_text() for t in shown] == labels
        assert {t.get_rotation() for t in shown} == ({45.0} if turned else {0.0})
    finally:
        plt.close(fig)


def test_capacity_axis_starts_at_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Capacity from 11 to 44 EFLOPS (capacity_frame: demand 10 to 25 x 1.6 = 40, installed 1.1 x
    demand) is drawn on an axis from 0, so that a line's height reads as its size, in every panel
    (they share the axis)."""
    figures = _kept_figures(monkeypatch)
    frames = {s: capacity_frame(SCENARIOS, PERIODS) for s in ("phased", "all-at-once")}
    assert_png(charts.plot_capacity_vs_demand(frames, tmp_path / "c.png"))
    for ax in figures[0].axes:
        low, high = ax.get_ylim()
        assert low == 0 and high >= 1.1 * 40

"""PNG charts and a small HTML page comparing planning strategies.

Every function takes pandas tables, writes one file and returns its path. Figures are drawn with
the non-interactive Agg backend and closed after saving, so that a sweep drawing many charts
does not accumulate open figures. Degenerate inputs (no strategy, no row, one period, all zeros)
never raise: the chart then says what is missing instead. Names are drawn as typed, ``$`` and
backslashes included (no mathtext).
"""

from __future__ import annotations

import functools
import html
import math
import os
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import quote

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from planner.money import BILLIONS, MoneyUnit  # noqa: E402

DPI = 120
FIGSIZE = (11.0, 5.0)
CAPEX_KINDS: dict[str, str] = {
    "buildings_capex": "Buildings",
    "chips_capex": "Chips",
    "power_capex": "Power",
}
# Stacked capex segments: strategies keep their colour, kinds differ by (alpha, hatch).
_KIND_STYLES: dict[str, tuple[float, str]] = {
    "Buildings": (1.0, ""), "Chips": (0.65, "//"), "Power": (0.4, ".."), "other": (0.25, "xx"),
    "total": (1.0, ""),
}
_PALETTE = plt.get_cmap("tab10")
# Installed capacity wide and translucent under an opaque dashed demand line, so that both stay
# visible where capacity exactly matches demand.
_CAPACITY_LINES: dict[str, dict[str, Any]] = {
    "installed_eflops": {"linestyle": "-", "linewidth": 3.0, "alpha": 0.55, "zorder": 2},
    "demand_eflops": {"linestyle": "--", "linewidth": 1.5, "alpha": 1.0, "zorder": 3},
}


# --- shared helpers -----------------------------------------------------------------------------

_P = ParamSpec("_P")


def _literal_text(draw: Callable[_P, Path]) -> Callable[_P, Path]:
    """Run a chart function with mathtext off, so that every name is drawn exactly as typed.

    matplotlib reads text between two ``$`` as math: a scenario "price_$5_to_$10" or a sweep group
    "rate $6% to $12%" made saving raise ValueError and lost the whole compare or sweep. A text reads
    the setting when it is created, tick labels partly while saving, hence around the whole drawing.
    Planner's own "$B" labels read the same either way.
    """

    @functools.wraps(draw)
    def literal(*args: _P.args, **kwargs: _P.kwargs) -> Path:
        with plt.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return literal


def _colour(i: int) -> tuple[float, float, float, float]:
    """The i-th colour of the shared categorical palette (cycles after ten)."""
    return _PALETTE(i % _PALETTE.N)


def _new_figure(ncols: int = 1, sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A slide-sized figure with ``ncols`` side-by-side axes (always a 1-D array of axes)."""
    ncols = max(1, ncols)
    fig, axes = plt.subplots(
        1, ncols, figsize=FIGSIZE, sharey=sharey, squeeze=False, layout="constrained"
    )
    return fig, axes[0]


def _style_axes(ax: Axes, title: str = "", xlabel: str = "", ylabel: str = "") -> None:
    """The common look: light grid behind the data, no top/right frame, labelled axes."""
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty(ax: Axes, message: str) -> None:
    """Turn ``ax`` into an informative placeholder showing ``message``."""
    ax.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=12, color="0.4",
        transform=ax.transAxes, wrap=True,
    )
    ax.set_xticks([])
    if len(ax.get_shared_y_axes().get_siblings(ax)) == 1:  # keep the ticks of shared panels
        ax.set_yticks([])


def _save(fig: Figure, path: Path, title: str) -> Path:
    """Give ``fig`` its title, write it as PNG at ``path`` (creating folders) and close it."""
    path = Path(path)
    try:
        fig.suptitle(title, fontsize=13, fontweight="bold")
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # A name in a script the font lacks (CJK, emoji) is drawn as boxes on the chart; the
            # tables hold it whole. matplotlib's warning would print its source lines on stderr.
            # ("missing from current font." before matplotlib 3.9, "missing from font(s) ..." since)
            warnings.filterwarnings("ignore", message="Glyph .* missing from")
            fig.savefig(path, dpi=DPI, format="png", facecolor="white")
    finally:
        plt.close(fig)
    return path


def _numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """``df[column]`` as floats (NaN where missing or not numeric), aligned on ``df``'s index."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[column], errors="coerce").astype(float)


def _ordered_union(groups: Iterable[Iterable[object]]) -> list[object]:
    """Distinct items of all ``groups`` in order of first appearance."""
    return list(dict.fromkeys(item for group in groups for item in group))


def _non_empty(frames: Mapping[str, pd.DataFrame | None]) -> dict[str, pd.DataFrame]:
    """The strategies whose table has at least one row."""
    return {name: df for name, df in frames.items() if df is not None and not df.empty}


def _grouped_offsets(n_bars: int, width: float = 0.8) -> tuple[np.ndarray, float]:
    """Centre offsets and width of ``n_bars`` bars sharing one x slot of total ``width``."""
    bar = width / max(1, n_bars)
    return (np.arange(n_bars) - (n_bars - 1) / 2) * bar, bar


# Room a tick label takes, in inches: one character of the 10-pt tick font across, and one
# label's line height (the step between neighbours once labels are turned by 45 degrees).
_CHAR_WIDTH_IN = 0.085
_ROTATED_STEP_IN = 0.24


def _category_ticks(ax: Axes, labels: list[str], panels: int = 1) -> None:
    """Label x positions 0..n-1 with ``labels`` so that no two labels overlap.

    Flat when all fit side by side in one of ``panels`` panels; else turned by 45 degrees and,
    where even then they do not fit (40 quarters in three panels, dozens of scenarios), only every
    k-th position is labelled: a tick still marks every position, and the tables hold every name.
    """
    n = len(labels)
    width_in = FIGSIZE[0] * 0.85 / max(1, panels)
    longest = max((len(line) for label in labels for line in label.splitlines()), default=0)
    ax.set_xticks(range(n), minor=True)
    if n * (longest + 2) * _CHAR_WIDTH_IN <= width_in:
        ax.set_xticks(range(n), labels)
        return
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    stride = max(1, math.ceil(n * lines * _ROTATED_STEP_IN / width_in))
    ax.set_xticks(range(0, n, stride), labels[::stride], rotation=45, ha="right",
                  rotation_mode="anchor")


def _note_if_all_zero(ax: Axes, values: np.ndarray) -> None:
    """Keep a sensible y range and say so when every plotted value is zero (or missing)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or np.all(finite == 0):
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "all values are zero or missing", ha="center", va="center", color="0.4",
                transform=ax.transAxes)


# --- charts -------------------------------------------------------------------------------------


@_literal_text
def plot_capacity_vs_demand(capacity: dict[str, pd.DataFrame], path: Path) -> Path:
    """Installed (solid) against demanded (dashed) EFLOPS per period, one panel per strategy.

    ``capacity`` maps a strategy name to a table with columns scenario, period,
    installed_eflops, served_eflops and demand_eflops, one row per scenario and period, periods
    in chronological order as they appear. Each scenario keeps one colour in every panel; the
    panels share the y axis.
    """
    title = "Installed vs demanded compute (EFLOPS)"
    frames = {name: df for name, df in capacity.items() if df is not None}
    if not _non_empty(frames):
        fig, axes = _new_figure()
        _empty(axes[0], "no capacity data to show")
        return _save(fig, path, title)

    needed = ["scenario", "period"]
    usable = {
        name: df.dropna(subset=needed)
        for name, df in frames.items()
        if set(needed) <= set(df.columns) and df[needed].notna().all(axis=1).any()
    }
    periods = _ordered_union(df["period"] for df in usable.values())
    scenarios = _ordered_union(df["scenario"] for df in usable.values())
    x_of = {p: i for i, p in enumerate(periods)}
    colour_of = {s: _colour(i) for i, s in enumerate(scenarios)}

    fig, axes = _new_figure(len(frames), sharey=True)
    plotted: list[pd.Series] = []
    for ax, strategy in zip(axes, frames, strict=True):
        _style_axes(ax, str(strategy), "period", "EFLOPS" if ax is axes[0] else "")
        if strategy not in usable:
            _empty(ax, "no rows with scenario and period")
            continue
        for scenario, rows in usable[strategy].groupby("scenario", sort=False):
            x = [x_of[p] for p in rows["period"]]
            style = {"color": colour_of[scenario], "marker": "o", "markersize": 3.5}
            for column, line in _CAPACITY_LINES.items():
                values = _numeric(rows, column)
                plotted.append(values)
                ax.plot(x, values, **line, **style)
        _category_ticks(ax, [str(p) for p in periods], panels=len(frames))
        ax.set_xlim(-0.5, len(periods) - 0.5)
    # Only now, with every panel's data in the shared autoscale, pin the shared axis at zero.
    everything = pd.concat(plotted).to_numpy() if plotted else np.array([])
    if not np.any(np.isfinite(everything) & (everything != 0)):
        for ax, strategy in zip(axes, frames, strict=True):
            if strategy in usable:
                _note_if_all_zero(ax, everything)
    else:
        axes[0].set_ylim(bottom=0)

    handles = [Line2D([], [], color=colour_of[s], linewidth=2, label=str(s)) for s in scenarios]
    handles += [
        Line2D([], [], color="0.3", label=column.removesuffix("_eflops"), **line)
        for column, line in _CAPACITY_LINES.items()
    ]
    fig.legend(handles=handles, loc="outside right upper", title="scenario", fontsize=9)
    return _save(fig, path, title)


@_literal_text
def plot_stranded_capital(
    stranded: dict[str, pd.DataFrame], path: Path, money: MoneyUnit = BILLIONS
) -> Path:
    """Peak stranded capital (in ``money``'s unit) per scenario, one bar per strategy.

    ``stranded`` maps a strategy to a table indexed by scenario with column
    stranded_capital_musd_peak (and optionally probability, shown under the scenario name).
    """
    title = f"Peak stranded capital by scenario ({money.label})"
    frames = _non_empty(stranded)
    fig, axes = _new_figure()
    ax = axes[0]
    if not frames:
        _empty(ax, "no stranded-capital data to show")
        return _save(fig, path, title)

    scenarios = _ordered_union(df.index for df in frames.values())
    offsets, width = _grouped_offsets(len(frames))
    x = np.arange(len(scenarios))
    values = []
    for i, (strategy, df) in enumerate(frames.items()):
        peak = _numeric(df, "stranded_capital_musd_peak").groupby(level=0).max()
        shown = peak.reindex(scenarios).fillna(0.0).to_numpy() / money.musd_per_unit
        values.append(shown)
        bars = ax.bar(x + offsets[i], shown, width, color=_colour(i), label=str(strategy))
        if len(scenarios) * len(frames) <= 24:
            ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)

    probability = pd.concat([_numeric(df, "probability") for df in frames.values()])
    probability = probability.groupby(level=0).first()
    labels = [
        f"{s}\n(p={probability[s]:.2f})" if s in probability and pd.notna(probability[s])
        else str(s)
        for s in scenarios
    ]
    _category_ticks(ax, labels)
    _style_axes(ax, "", "scenario", f"peak stranded capital ({money.label})")
    _note_if_all_zero(ax, np.concatenate(values))
    ax.legend(title="strategy", fontsize=9)
    return _save(fig, path, title)


def _capex_parts(df: pd.DataFrame, periods: list[object]) -> dict[str, pd.Series]:
    """One strategy's capex per period (M$) split into the kinds its table has.

    The part of ``total`` not covered by the kinds becomes "other"; a table without any kind
    column gives ``{"total": total}``. Missing periods count as zero.
    """
    table = df.groupby(level=0, sort=False).sum(numeric_only=True, min_count=1).reindex(periods)
    parts = {
        label: _numeric(table, column).fillna(0.0)
        for column, label in CAPEX_KINDS.items()
        if column in table.columns
    }
    covered = sum(parts.values()) if parts else pd.Series(0.0, index=table.index)
    total = _numeric(table, "total").fillna(covered)
    if not parts:
        return {"total": total}
    other = total - covered
    if (other.abs() > 1e-6 * max(1.0, total.abs().max())).any():
        parts["other"] = other
    return parts


@_literal_text
def plot_capex_by_year(capex: dict[str, pd.DataFrame], path: Path, money: MoneyUnit = BILLIONS) -> Path:
    """Expected undiscounted capex (in ``money``'s unit) per period, one bar per strategy, stacked
    by kind.

    ``capex`` maps a strategy to a table indexed by period with columns buildings_capex,
    chips_capex, power_capex and total (M$). Strategies keep their colour, kinds differ by
    shade and hatch; any part of ``total`` not covered by the three kinds is shown as "other".
    Without any kind column the bars show ``total`` alone.
    """
    title = f"Capital expenditure by period ({money.label}, expected, undiscounted)"
    frames = _non_empty(capex)
    fig, axes = _new_figure()
    ax = axes[0]
    if not frames:
        _empty(ax, "no capex data to show")
        return _save(fig, path, title)

    periods = _ordered_union(df.index for df in frames.values())
    offsets, width = _grouped_offsets(len(frames))
    x = np.arange(len(periods))
    totals = []
    used_kinds: set[str] = set()
    for i, df in enumerate(frames.values()):
        parts = _capex_parts(df, periods)
        bottom = np.zeros(len(periods))
        for kind, musd in parts.items():
            shade, hatch = _KIND_STYLES[kind]
            shown = musd.to_numpy() / money.musd_per_unit
            ax.bar(x + offsets[i], shown, width, bottom=bottom, color=_colour(i), alpha=shade,
                   hatch=hatch, edgecolor="white", linewidth=0.5)
            bottom += shown
        used_kinds.update(parts)
        totals.append(bottom)

    _category_ticks(ax, [str(p) for p in periods])
    _style_axes(ax, "", "period", f"capex ({money.label})")
    _note_if_all_zero(ax, np.concatenate(totals))
    handles = [Patch(color=_colour(i), label=str(s)) for i, s in enumerate(frames)]
    stacked = [kind for kind in _KIND_STYLES if kind in used_kinds and kind != "total"]
    handles += [
        Patch(facecolor="0.4", alpha=_KIND_STYLES[k][0], hatch=_KIND_STYLES[k][1],
              edgecolor="white", label=k)
        for k in stacked
    ]
    ax.legend(handles=handles, fontsize=9, ncols=2 if len(handles) > 6 else 1)
    return _save(fig, path, title)


def _tornado_spans(variants: pd.DataFrame, base: float, money: MoneyUnit = BILLIONS) -> pd.DataFrame:
    """Per group: lowest and highest delta to ``base`` (both in ``money``'s unit), the variants
    reaching them, and how many of its variants have no objective (``failed``).

    A variant without a group is a bar of its own, named after it. ``span`` is the reach of the
    bar from the base (0) to both ends; the result is sorted by increasing span (so that the
    widest bar ends up on top of a horizontal bar chart). A group whose every variant failed keeps
    a row with NaN ends and span 0. ``lo_unproven`` / ``hi_unproven`` mark an end variant whose
    solve did not end within its MIP gap (a time limit, say): its status and gap join its label.
    """
    columns = ["group", "lo", "hi", "lo_case", "hi_case", "span", "failed", "lo_unproven", "hi_unproven"]
    if not {"case", "group", "objective_musd"} <= set(variants.columns):
        return pd.DataFrame(columns=columns)
    variants = variants.reset_index(drop=True)
    df = pd.DataFrame({
        "case": variants["case"].astype(str),
        "group": variants["group"].where(variants["group"].notna(), "").astype(str).str.strip(),
        "delta": _numeric(variants, "objective_musd") / money.musd_per_unit - base,
        "note": [_unproven_note(row) for row in variants.to_dict("records")],
    })
    df["group"] = df["group"].where(df["group"].ne(""), df["case"])
    rows = []
    for group, g in df.groupby("group", sort=False):
        solved = g[np.isfinite(g["delta"])]
        failed = len(g) - len(solved)
        if solved.empty:
            rows.append({"group": group, "lo": math.nan, "hi": math.nan, "lo_case": "", "hi_case": "",
                         "failed": failed, "lo_unproven": False, "hi_unproven": False})
            continue
        lo, hi = solved.loc[solved["delta"].idxmin()], solved.loc[solved["delta"].idxmax()]
        rows.append({"group": group, "lo": lo["delta"], "hi": hi["delta"],
                     "lo_case": lo["case"] + lo["note"], "hi_case": hi["case"] + hi["note"],
                     "failed": failed, "lo_unproven": bool(lo["note"]), "hi_unproven": bool(hi["note"])})
    spans = pd.DataFrame(rows, columns=[c for c in columns if c != "span"])
    spans["span"] = (spans["hi"].clip(lower=0) - spans["lo"].clip(upper=0)).fillna(0.0)
    return spans[columns].sort_values("span", kind="stable").reset_index(drop=True)


def _unproven_note(variant: Mapping[Hashable, object]) -> str:
    """`` (time_limit, gap 85.0%)`` for a variant solved but not within its MIP gap; else empty."""
    status, within = variant.get("status"), variant.get("within_mip_gap")
    if status in (None, "optimal", "failed") and within is not False:
        return ""
    gap = pd.to_numeric(pd.Series([variant.get("mip_gap")]), errors="coerce").iloc[0]
    said = f"gap {100 * gap:.1f}%" if pd.notna(gap) else "no gap"
    return f" ({status}, {said})"


@_literal_text
def plot_tornado(
    variants: pd.DataFrame,
    base_objective_musd: float,
    path: Path,
    money: MoneyUnit = BILLIONS,
    model: str = "",
) -> Path:
    """Sensitivity tornado: per group, the range of variant objectives relative to the base.

    ``variants`` has columns case, group and objective_musd (and optionally status, mip_gap and
    within_mip_gap); rows with a missing objective are failed variants. Each group (or variant
    without a group) is one horizontal bar from the base out to its lowest and highest delta
    (objective - base, in ``money``'s unit), widest on top, with a dot per end and the variants at
    both ends labelled. The half of a bar whose end variant is not within its MIP gap is hatched
    and its label gives status and gap; a group's failed variants are counted beside its name, and
    a group with no solved variant is a row saying so. ``model`` (a sweep of several models draws
    one chart each) is named in the title.
    """
    title = "Sensitivity of the objective to input variants" + (f" under {model}" if model else "")
    fig, axes = _new_figure()
    ax = axes[0]
    base = base_objective_musd / money.musd_per_unit if base_objective_musd is not None else None
    if base is None or not math.isfinite(base) or variants is None:
        spans = _tornado_spans(pd.DataFrame(), 0.0, money)
    else:
        spans = _tornado_spans(variants, base, money)
    if spans.empty:
        _empty(ax, "no variants to show")
        return _save(fig, path, title)

    fig.set_size_inches(FIGSIZE[0], max(FIGSIZE[1], 0.3 * len(spans) + 1.5))  # a readable row per bar
    y = np.arange(len(spans))
    cheaper = spans["lo"].clip(upper=0).fillna(0.0)  # each bar runs from the base (0) out to its ends
    dearer = spans["hi"].clip(lower=0).fillna(0.0)
    ax.barh(y, -cheaper, left=cheaper, height=0.6, color="tab:green", alpha=0.8, label="cheaper than base",
            hatch=["//" if u else "" for u in spans["lo_unproven"]], edgecolor="white")
    ax.barh(y, dearer, left=0.0, height=0.6, color="tab:red", alpha=0.8, label="dearer than base",
            hatch=["//" if u else "" for u in spans["hi_unproven"]], edgecolor="white")
    ax.scatter(spans["lo"], y, color="0.2", s=12, zorder=3)
    ax.scatter(spans["hi"], y, color="0.2", s=12, zorder=3)
    ax.axvline(0, color="black", linewidth=1)

    reach = max(np.nanmax(spans["hi"].abs().to_numpy(dtype=float), initial=0.0),
                np.nanmax(spans["lo"].abs().to_numpy(dtype=float), initial=0.0), 1e-3)
    pad = 0.04 * reach
    row: Any  # pandas-stubs type an itertuples() field as any scalar; these are floats and names
    for yi, row in zip(y, spans.itertuples(), strict=True):
        if not math.isfinite(row.lo):
            ax.text(pad, yi, "every variant failed", ha="left", va="center", fontsize=8, color="0.4")
        elif row.hi_case == row.lo_case and row.lo > 0:  # one variant, dearer: its name on the right
            ax.text(row.hi + pad, yi, _short(row.hi_case), ha="left", va="center", fontsize=8)
        else:
            ax.text(row.lo - pad, yi, _short(row.lo_case), ha="right", va="center", fontsize=8)
            if row.hi_case != row.lo_case:
                ax.text(row.hi + pad, yi, _short(row.hi_case), ha="left", va="center", fontsize=8)
    ax.set_xlim(min(np.nanmin(spans["lo"].to_numpy(dtype=float), initial=0.0), 0) - 0.6 * reach,
                max(np.nanmax(spans["hi"].to_numpy(dtype=float), initial=0.0), 0) + 0.6 * reach)
    ax.set_yticks(y, [
        _short(group) + (f" ({failed} failed)" if failed else "")
        for group, failed in zip(spans["group"], spans["failed"], strict=True)
    ])
    _style_axes(ax, f"base objective {base:,.3f} {money.label}", f"objective - base ({money.label})", "")
    ax.grid(True, axis="x", alpha=0.3)
    ax.grid(False, axis="y")
    handles, _ = ax.get_legend_handles_labels()
    if (spans["lo_unproven"] | spans["hi_unproven"]).any():
        handles.append(Patch(facecolor="0.6", hatch="//", edgecolor="white",
                             label="an end not within its MIP gap (status, gap)"))
    ax.legend(handles=handles, fontsize=9, loc="best")
    return _save(fig, path, title)


LABEL_CHARS = 40
"""Longer variant and group names are cut on the chart (the table keeps them whole): a 300-character
name collapsed the axes."""


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


# --- HTML page ----------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { margin-top: 1.8em; color: #333; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
table.table { border-collapse: collapse; font-size: 0.9em; }
table.table th, table.table td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
table.table th { background: #f3f3f3; }
table.table tr:nth-child(even) td { background: #fafafa; }
p { white-space: pre-wrap; }
"""


def _relative_src(target: Path, folder: Path) -> str:
    """``target`` as a URL relative to ``folder`` (just the file name when that fails), percent-encoded:
    a model's name may hold ``#`` or ``%`` (tornado-<model>.png), which a URL reads otherwise."""
    try:
        rel = os.path.relpath(Path(target).resolve(), Path(folder).resolve())
    except ValueError:  # different drives on Windows
        rel = Path(target).name
    return quote(Path(rel).as_posix())


def html_number(value: float) -> str:
    """A table figure: 3 decimals from 1 up, else 4 significant digits, so that shares and gaps
    (a gap of 0.004999, an idle share of 0.00613) are not rounded to 0.005 and 0.006."""
    return f"{value:,.3f}" if abs(value) >= 1 else f"{value:.4g}"


def _section_body(content: str | Path | pd.DataFrame, folder: Path) -> str:
    """The HTML of one section's content: image, link, table or paragraph."""
    if isinstance(content, pd.DataFrame):
        return content.to_html(
            float_format=html_number,
            classes="table",
            border=0,
            na_rep="",
            index=not isinstance(content.index, pd.RangeIndex),  # row numbers say nothing
        )
    if isinstance(content, Path):
        src = html.escape(_relative_src(content, folder), quote=True)
        if content.suffix.lower() == ".png":
            return f'<img src="{src}" alt="{html.escape(content.stem, quote=True)}">'
        return f'<p><a href="{src}">{html.escape(content.name)}</a></p>'
    return f"<p>{html.escape(str(content))}</p>"


def write_html(path: Path, title: str, sections: list[tuple[str, str | Path | pd.DataFrame]]) -> Path:
    """Write a simple HTML report: a title, then one heading and content per section.

    A ``Path`` to a .png becomes an ``<img>`` referring to the file relative to the page's
    folder, a DataFrame a table (:func:`html_number`), a string an escaped paragraph.
    """
    path = Path(path)
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, content in sections:
        body.append(f"<h2>{html.escape(str(heading))}</h2>")
        body.append(_section_body(content, path.parent))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path

"""``lookout alerts report``: response times per 1-3-5 class, as a table, CSV and a PNG chart.

Per class (response area, or ``elsewhere``): how many alerts were confirmed, how many had a unit on
scene, the median and 90th percentile of confirmed -> on scene, and the share of those on scene
within the class target. Alerts without an on-scene time (dismissed, closed without a unit, still
running) are counted in ``not_reached`` and are not part of the percentiles or the share.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dispatch.clock import ResponseRecord


@dataclass(frozen=True, slots=True)
class ClassStats:
    area: str
    target_min: int
    count: int
    reached: int
    median_s: float | None
    p90_s: float | None
    within_pct: float | None

    @property
    def not_reached(self) -> int:
        return self.count - self.reached


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(records: Iterable[ResponseRecord]) -> list[ClassStats]:
    """One row per class, tightest target first."""
    groups: dict[tuple[int, str], list[ResponseRecord]] = {}
    for r in records:
        groups.setdefault((r.target_min, r.area), []).append(r)
    out = []
    for (target, area), recs in sorted(groups.items()):
        times = [t for r in recs if (t := r.time_to_scene_s) is not None]
        within = sum(1 for t in times if t <= target * 60)
        out.append(ClassStats(
            area, target, len(recs), len(times),
            percentile(times, 50) if times else None, percentile(times, 90) if times else None,
            100.0 * within / len(times) if times else None,
        ))  # fmt: skip
    return out


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{int(v // 60)}:{v % 60:04.1f}"


def format_table(stats: list[ClassStats]) -> str:
    head = f"{'class':<20} {'target':>6} {'alerts':>6} {'on scene':>8} {'median':>8} {'p90':>8} {'within':>7}"
    lines = [head, "-" * len(head)]
    for s in stats:
        within = "-" if s.within_pct is None else f"{s.within_pct:.0f} %"
        lines.append(f"{s.area:<20} {s.target_min:>4} m {s.count:>6} {s.reached:>8} {_fmt_s(s.median_s):>8} "
                     f"{_fmt_s(s.p90_s):>8} {within:>7}")  # fmt: skip
    if not stats:
        lines.append("(no confirmed alerts in this period)")
    return "\n".join(lines)


def _atomic(path: Path, write: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))  # type: ignore[operator]
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_csv(stats: list[ClassStats], path: Path) -> None:
    def go(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["class", "target_min", "alerts", "on_scene", "not_reached", "median_s", "p90_s", "within_pct"])
            for s in stats:
                num = ["" if v is None else f"{v:.1f}" for v in (s.median_s, s.p90_s, s.within_pct)]
                w.writerow([s.area, s.target_min, s.count, s.reached, s.not_reached, *num])

    _atomic(path, go)


def write_png(stats: list[ClassStats], path: Path, title: str = "Time to scene per response class") -> None:
    """Bars: median and p90 minutes to scene per class, the target as a line, % within above."""
    import matplotlib

    matplotlib.use("Agg")  # no display; safe in any thread
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(5.0, 1.8 * len(stats) + 2), 4.2), dpi=110)
    ax = fig.add_subplot()
    xs = list(range(len(stats)))
    med = [(s.median_s or 0) / 60 for s in stats]
    p90 = [(s.p90_s or 0) / 60 for s in stats]
    ax.bar([x - 0.2 for x in xs], med, width=0.4, label="median", color="#4c72b0")
    ax.bar([x + 0.2 for x in xs], p90, width=0.4, label="p90", color="#dd8452")
    for x, s in zip(xs, stats, strict=True):
        ax.hlines(s.target_min, x - 0.45, x + 0.45, colors="#c44e52", linestyles="dashed",
                  label="target" if x == 0 else None)  # fmt: skip
        label = "no unit on scene" if s.within_pct is None else f"{s.within_pct:.0f} % in {s.target_min} min"
        ax.text(x, max(s.target_min, (s.p90_s or 0) / 60) * 1.05, f"{label}\n(n={s.count})", ha="center",
                va="bottom", fontsize=8)  # fmt: skip
    ax.set_xticks(xs, [f"{s.area}\n({s.target_min} min)" for s in stats])
    ax.set_ylabel("minutes from confirmation to on scene")
    top = max([*(s.target_min for s in stats), *p90, 1.0])
    ax.set_ylim(0, top * 1.35)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    _atomic(path, lambda tmp: fig.savefig(tmp, format="png"))


def output_paths(out: Path) -> tuple[Path, Path]:
    """``-o FILE``: FILE.csv and FILE.png (a .csv or .png FILE gives its sibling the other suffix)."""
    if out.suffix.lower() in (".csv", ".png"):
        return out.with_suffix(".csv"), out.with_suffix(".png")
    return out.with_name(out.name + ".csv"), out.with_name(out.name + ".png")

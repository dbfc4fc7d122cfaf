"""Pure helpers of ``lookout bench vision``: which clips (``--clips``), and the one summary table over them."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from benchmarks.vision_measure import Row, best, cpu_per_frame


class ClipListError(ValueError):
    """A ``--clips`` entry names no clip."""


def parse_clips(spec: str, footage_dir: Path | None = None) -> list[Path]:
    """``--clips`` -> clip paths: comma-separated files, ``footage`` (every .mp4 under ``footage_dir``'s
    sub-folders), or ``footage:SUB`` (e.g. ``footage:fight``). Order kept, duplicates dropped."""
    out: list[Path] = []
    for item in (x.strip() for x in spec.split(",")):
        if not item:
            continue
        if item == "footage" or item.startswith("footage:"):
            sub = item.partition(":")[2]
            if footage_dir is None:
                from lookout.paths import footage_dir as shared_footage

                footage_dir = shared_footage()
            if footage_dir is None:
                raise ClipListError(f"--clips {item}: no shared footage (../shared/footage beside the repository, "
                                    "or set LOOKOUT_FOOTAGE); pass clip paths instead")
            root = footage_dir / sub if sub else footage_dir
            found = sorted(root.glob("*.mp4") if sub else root.glob("*/*.mp4"))
            if not found:
                raise ClipListError(f"--clips {item}: no .mp4 files in {root}; pass clip paths instead")
            out.extend(found)
        else:
            path = Path(item).expanduser()
            if not path.is_file():
                raise ClipListError(f"--clips: {path} is not a file; give existing video paths or 'footage'")
            out.append(path)
    if not out:
        raise ClipListError("--clips is empty; give video paths, 'footage' or 'footage:fight'")
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def ratio(ours: int, naive: int) -> float | None:
    """ours / naive sustained feeds; inf when only ours sustains any, None when neither does."""
    if naive:
        return ours / naive
    return math.inf if ours else None


def median(values: list[float | None]) -> float | None:
    """Median of the defined values (inf counts as larger than everything)."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    mid = len(vals) // 2
    if len(vals) % 2:
        return vals[mid]
    lo, hi = vals[mid - 1], vals[mid]
    return hi if math.isinf(hi) or math.isinf(lo) else (lo + hi) / 2


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summary_row(rec: dict[str, Any]) -> Row:
    """One clip's record (``ours``/``naive`` rows, ``accuracy``, ``resolution``) -> one table row."""
    ours_rows: list[Row] = [r for r in rec.get("ours", []) if "fps_mean" in r]
    naive_rows: list[Row] = [r for r in rec.get("naive", []) if "fps_mean" in r]
    b_ours, b_naive = best(ours_rows), best(naive_rows)
    n_ours = b_ours["feeds"] if b_ours else 0
    n_naive = b_naive["feeds"] if b_naive else 0
    shares = [r["detected_fps_mean"] / r["fps_mean"] for r in ours_rows if r.get("fps_mean")]
    areas = [r["area_frac_mean"] for r in ours_rows if r.get("area_frac_mean") is not None]
    c_ours, c_naive = cpu_per_frame(ours_rows), cpu_per_frame(naive_rows)
    acc = rec.get("accuracy") or {}
    row: Row = {
        "clip": rec["clip"],
        "resolution": rec.get("resolution", "?"),
        "detect_share": _round(_mean(shares), 2),
        "area_frac": _round(_mean(areas), 2),
        "ours_feeds": n_ours,
        "naive_feeds": n_naive if naive_rows else None,
        "ratio": ratio(n_ours, n_naive) if naive_rows else None,
        "cpu_ms_ours": c_ours,
        "cpu_ms_naive": c_naive,
        "cpu_ratio": round(c_naive / c_ours, 2) if c_ours and c_naive else None,
    }
    for k in ("recall", "precision", "kp_err_mean", "detected_frac", "area_frac", "frames", "persons_ref"):
        row[f"acc_{k}"] = acc.get(k)
    return row


def summarise(records: list[dict[str, Any]]) -> tuple[list[Row], Row]:
    """Table rows and the medians over clips."""
    rows = [summary_row(r) for r in records]
    med: Row = {
        "ratio": median([r["ratio"] for r in rows]),
        "cpu_ratio": median([r["cpu_ratio"] for r in rows]),
        "ours_feeds": median([r["ours_feeds"] for r in rows]),
        "naive_feeds": median([r["naive_feeds"] for r in rows]),
        "acc_recall": median([r["acc_recall"] for r in rows]),
        "acc_precision": median([r["acc_precision"] for r in rows]),
        "clips": len(rows),
        "clips_ratio_ge_3": sum(1 for r in rows if r["ratio"] is not None and r["ratio"] >= 3),
    }
    recalls = [r["acc_recall"] for r in rows if r["acc_recall"] is not None]
    med["acc_recall_min"] = min(recalls) if recalls else None
    return rows, med


def _round(v: float | None, nd: int) -> float | None:
    return None if v is None else round(v, nd)


def _f(v: Any, fmt: str = "{}") -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return fmt.format(v)


COLUMNS: list[tuple[str, str, str, int]] = [  # key, header, format, width
    ("clip", "clip", "{}", 0),
    ("resolution", "res", "{}", 9),
    ("detect_share", "det", "{:.2f}", 5),
    ("area_frac", "area", "{:.2f}", 5),
    ("ours_feeds", "ours", "{}", 5),
    ("naive_feeds", "naive", "{}", 5),
    ("ratio", "ratio", "{:.1f}x", 6),
    ("cpu_ms_ours", "ms/f", "{:.1f}", 6),
    ("cpu_ms_naive", "naive", "{:.1f}", 6),
    ("cpu_ratio", "cpu x", "{:.1f}x", 6),
    ("acc_persons_ref", "people", "{}", 6),
    ("acc_recall", "recall", "{:.3f}", 6),
    ("acc_precision", "prec", "{:.3f}", 6),
    ("acc_kp_err_mean", "kp err", "{:.3f}", 6),
    ("acc_detected_frac", "a.det", "{:.2f}", 5),
    ("acc_area_frac", "a.area", "{:.2f}", 6),
]


def format_table(rows: list[Row], med: Row, fps: float, accuracy: bool = True) -> str:
    """The summary table as text (one line per clip, then the medians)."""
    cols = [c for c in COLUMNS if accuracy or not c[0].startswith("acc_")]
    clip_w = max([len("median"), *(len(str(r["clip"])) for r in rows)])
    widths = [w or clip_w for _, _, _, w in cols]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                           strict=True)))

    lines = [line([h for _, h, _, _ in cols])]
    lines += [line([_f(r.get(k), fmt) for k, _, fmt, _ in cols]) for r in [*rows, {**med, "clip": "median"}]]
    legend = (f"det: share of analysed frames ours sent to the detector; area: mean share of pixels detected "
              f"(FeedStats.area_frac); ours/naive: feeds sustained at {fps:g} fps (>= 95 %) measured on this "
              f"machine; ms/f: CPU ms per analysed frame (median over N), cpu x = naive/ours")
    if accuracy:
        legend += ("; people: persons whole-frame detection found over the clip's frames at that fps (the "
                   "reference, not ground truth); recall/prec/kp err: gated (+regions) vs that reference (IoU >= "
                   "0.5, kp err / box height); a.det/a.area: frames/pixels through the detector in that check")
    return "\n".join([*lines, legend])

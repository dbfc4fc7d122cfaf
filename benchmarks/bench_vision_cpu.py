"""The CPU a benchmark ran on: model, cores and the instruction sets that decide inference speed.

Every vision bench report names it, so figures from different machines are never compared as if alike:

    cpu_line()   # "Intel(R) Xeon(R) Processor, 2 cores; avx2 fma avx512f avx512_vnni avx512_bf16 amx_int8 ..."
"""

from __future__ import annotations

import os
from typing import Any

from vision.detect._ultralytics_paths import cpu_isa

SETS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
        "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16", "asimd", "sve", "i8mm", "bf16")  # fmt: skip


def cpu_info() -> dict[str, Any]:
    """Model name, logical cores and the inference-relevant flags of /proc/cpuinfo (Linux; else platform)."""
    model, isa = cpu_isa(SETS)
    return {"model": model, "cores": os.cpu_count() or 1, "isa": list(isa)}


def cpu_line(info: dict[str, Any] | None = None) -> str:
    i = info or cpu_info()
    return f"CPU: {i['model']}, {i['cores']} logical cores; instruction sets: {' '.join(i['isa']) or 'unknown'}"


__all__ = ["cpu_info", "cpu_line"]

"""What the platform benchmarks share: a demo config with many bound groups, percentiles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config.environment import demo_config_path

# What residents write in the benchmark burst: chat, and requests ({b} building, {u} unit).
CHATTER = (
    "早上好",
    "收到，谢谢",
    "今天天气不错",
    "好的",
    "明天几点开会？",
    "辛苦了",
    "谁家的快递放门口了",
    "👍",
)
REQUESTS = (
    "{b}幢{u}单元楼道灯坏了，晚上很黑",
    "{b}幢电梯按钮失灵了，按了没反应",
    "{b}幢门口垃圾堆了三天没人清",
    "{b}幢{u}单元楼道窗户玻璃碎了",
    "{b}幢{u}单元水管漏水了，地上全是水",
)


def bench_config(directory: Path, count: int, binding: Callable[[int], str]) -> Path:
    """The demo community plus `count` stairwell groups; `binding(n)` is each one's TOML
    platform line (`telegram_chat_id = …` or `wechat_room_id = "…"`)."""
    extra = [
        "\n".join(
            (
                "[[groups]]",
                f'id = "bench-{n:03d}"',
                f'name = "桃源5幢1单元楼道群{n}"',
                'level = "stairwell"',
                'node = "taoyuan-5-1"',
                binding(n),
            )
        )
        for n in range(count)
    ]
    path = directory / "bench.toml"
    demo = demo_config_path().read_text(encoding="utf-8")
    path.write_text(demo + "\n\n" + "\n\n".join(extra) + "\n", encoding="utf-8")
    return path


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0..1) of `values`, by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

"""The load bench itself (``make bench`` measures with it): a short run of the whole service as
production runs it — serve, worker and simulators as processes, over real HTTP — played by the
load generator; and the generator's bounds. Figures are not asserted here (benchmarks measure
speed); that the bench counts what it says it counts is."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from bench.floor import measure
from bench.load import one_run
from bench.loadgen import parse_args
from bot.settings import ROOT


async def test_a_short_run_plays_both_doors_to_the_end_without_errors() -> None:
    result = await one_run(argparse.Namespace(seconds=3.0, citizens=4), 1, "embedded", 0)
    assert result["errors"] == 0, result["errors_by_kind"]
    assert set(result["turns_by_door"]) == {"wechat", "miniprogram"}, result["turns_by_door"]
    assert result["turns"] == sum(result["turns_by_door"].values()) > 20
    assert result["applications_submitted"] >= 1  # whole conversations, not just openings
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
    assert result["serve_cpu_ms_per_turn"] > 0 and result["worker_cpu_ms_per_turn"] >= 0


def test_the_generator_only_talks_to_this_machine() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--url", "http://192.0.2.1:8080", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "loopback" in done.stderr


@pytest.mark.parametrize(
    "argv", [["--citizens", "0"], ["--citizens", "5000"], ["--seconds", "0"], ["--seconds", "7200"]]
)
def test_the_generator_is_bounded(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)


def test_the_floor_counts_requests_and_the_cpu_of_both_sides() -> None:
    result = measure(serves=1, clients=4, seconds=1.5)
    assert result["errors"] == 0 and result["requests"] > 50
    assert result["requests_per_second"] == pytest.approx(result["requests"] / result["seconds"], rel=0.01)
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert result["serve_cpu_ms_per_request"] > 0 and result["client_cpu_ms_per_request"] > 0


def test_the_floor_client_only_talks_to_this_machine() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.floor", "load", "--url", "http://192.0.2.1:8080", "--seconds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "loopback" in done.stderr

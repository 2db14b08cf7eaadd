"""`python -m shoptools.bench --tracing`: the settings it compares, and what it refuses."""

import pytest

from shoptools.bench.options import parse_settings


def test_tracing_names_the_settings_compared_in_order():
    settings = parse_settings(["--tracing", "off, 0.01,1.0", "--tracing-rounds", "2"])
    assert (settings.tracing, settings.tracing_rounds) == (("off", "0.01", "1.0"), 2)
    assert parse_settings([]).tracing == ()


@pytest.mark.parametrize(
    "argv",
    [
        ["--tracing", "off,0"],
        ["--tracing", "off,1.5"],
        ["--tracing", "off,often"],
        ["--tracing", "off,off"],
        ["--tracing", ","],
        ["--tracing", "off,1.0", "--url", "http://127.0.0.1:8000"],
        ["--tracing", "off,1.0", "--concurrency", "64"],
        ["--tracing", "off,1.0", "--tracing-rounds", "0"],
    ],
)
def test_a_tracing_comparison_that_cannot_be_run_is_refused_with_a_reason(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_settings(argv)
    assert exit_.value.code == 2
    assert "--tracing" in capsys.readouterr().err

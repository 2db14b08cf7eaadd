#!/bin/sh
# Which CPython the shop runs on. The tested range is 3.11 to 3.13 (pyproject's
# requires-python says the same); the Makefile and .ci/run ask this script.
#
#   scripts/python.sh pick               the interpreter `make` uses when PYTHON is not given:
#                                        the newest of python3.13, python3.12, python3.11,
#                                        python3 on PATH that runs and is in range
#   scripts/python.sh check PYTHON VENV  stop with one line unless PYTHON is in range; rebuild
#                                        VENV from scratch when another interpreter made it
#   scripts/python.sh all                every interpreter in range this machine has (PATH
#                                        and pyenv), one "VERSION PATH" line each, oldest first
set -eu

MIN_MINOR=11
MAX_MINOR=13
CANDIDATES="python3.13 python3.12 python3.11 python3"

# "3.12.1 /path/to/python3.12" for an interpreter that runs (a pyenv shim of a version that is
# not selected exits non-zero), nothing otherwise.
describe() {
    "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3], sys.executable)' 2>/dev/null || true
}

in_range() {
    minor=$(echo "$1" | cut -d. -f2)
    [ "$(echo "$1" | cut -d. -f1)" = 3 ] && [ "$minor" -ge $MIN_MINOR ] && [ "$minor" -le $MAX_MINOR ]
}

pick() {
    for candidate in $CANDIDATES; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        found=$(describe "$candidate")
        if [ -n "$found" ] && in_range "${found%% *}"; then
            echo "$candidate"
            return 0
        fi
    done
}

version_or_not() {
    found=$(describe "$1")
    if [ -n "$found" ]; then echo "${found%% *}"; else echo "(does not run)"; fi
}

# What was looked at, for the one-line refusal: "python3 3.10.13, python3.12 (does not run)".
seen() {
    list=""
    for candidate in $CANDIDATES; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        list="$list${list:+, }$candidate $(version_or_not "$candidate")"
    done
    echo "${list:-none of them}"
}

check() {
    python=$1 venv=$2
    found=""
    [ -n "$python" ] && found=$(describe "$python")
    if [ -z "$found" ] || ! in_range "${found%% *}"; then
        echo "shopmesh needs CPython 3.$MIN_MINOR to 3.$MAX_MINOR (python3.13, python3.12," \
            "python3.11 or python3, or PYTHON=...); found: ${python:+PYTHON=$python $(version_or_not "$python"); }$(seen)" >&2
        exit 1
    fi
    # The venv remembers which interpreter made it; a venv of another one is not half-reused.
    if [ -d "$venv" ] && [ "$(cat "$venv/.interpreter" 2>/dev/null)" != "$found" ]; then
        echo "$venv was made by another interpreter than $python ($found): rebuilding it"
        rm -rf "$venv"
    fi
    mkdir -p "$venv"
    [ -f "$venv/.interpreter" ] || echo "$found" >"$venv/.interpreter"
}

all() {
    {
        for candidate in $CANDIDATES; do
            command -v "$candidate" >/dev/null 2>&1 && describe "$candidate"
        done
        if command -v pyenv >/dev/null 2>&1; then
            for version in $(pyenv versions --bare --skip-aliases 2>/dev/null); do
                prefix=$(pyenv prefix "$version" 2>/dev/null) || continue
                [ -x "$prefix/bin/python3" ] && describe "$prefix/bin/python3"
            done
        fi
    } | while read -r version path; do
        in_range "$version" && echo "$version $(readlink -f "$path")"
    done | sort -t. -k1,1n -k2,2n -k3,3n -u | awk '!seen[$1]++'
}

case "${1:-}" in
    pick) pick ;;
    check) check "${2:-}" "${3:-.venv}" ;;
    all) all ;;
    *) echo "usage: $0 pick | check PYTHON VENV | all" >&2; exit 2 ;;
esac

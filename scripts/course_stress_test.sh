#!/usr/bin/env bash
# The course's Locust stress test (github.com/delftdata/wdm-project-benchmark, stress-test/),
# headless, against a running gateway, counting every non-2xx answer as a failure (the course's
# locustfile counts only 4xx). Nothing of the benchmark is in this repository.
#
#   scripts/course_stress_test.sh BENCHMARK_DIR VENV URL [USERS] [SECONDS] [SPAWN_RATE]
#
# BENCHMARK_DIR: a checkout of the benchmark; VENV: a virtualenv with its requirements.txt
# (locust==2.25.0, aiohttp); URL: the gateway, e.g. http://127.0.0.1:8000. USERS (500), each
# checking out a random one of the 100,000 orders once a second; SECONDS (45) of load after
# the course's init_orders.py loaded the data; SPAWN_RATE (100 users/s). Prints the statuses
# and Locust's summary (its percentile table covers the whole run); exits non-zero on any
# non-2xx answer.
set -euo pipefail
dir=$(realpath "$1"); venv=$(realpath "$2"); url=${3%/}
users=${4:-500}; seconds=${5:-45}; spawn=${6:-100}
here=$(dirname "$(realpath "$0")")
out=$(mktemp -d /tmp/course-stress.XXXXXX)

printf '{"ORDER_URL": "%s", "PAYMENT_URL": "%s", "STOCK_URL": "%s"}\n' "$url" "$url" "$url" \
    > "$dir/urls.json"
cd "$dir/stress-test"
"$venv/bin/python" init_orders.py
status=0
"$venv/bin/locust" -f "$here/course_locustfile.py" --headless --only-summary \
    --users "$users" --spawn-rate "$spawn" --run-time "${seconds}s" --host "$url" \
    --csv "$out/stats" || status=$?
echo "Locust's CSV files: $out"
exit "$status"

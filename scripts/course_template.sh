#!/usr/bin/env bash
# Runs the course's project template (github.com/delftdata/wdm-project-template: Flask + Redis,
# gunicorn -w 2 per service, nginx as the gateway) on this machine, for `make bench
# BENCH_ARGS="--compare http://127.0.0.1:PORT"`. Nothing of it is in this repository.
#
#   scripts/course_template.sh TEMPLATE_DIR VENV [PORT]
#
# TEMPLATE_DIR: a checkout of the template; VENV: a virtualenv with its requirements (Flask,
# redis, gunicorn, msgspec, requests); PORT: the gateway's (default 8010). Needs Debian's
# redis-server and nginx. Runs in the foreground until Ctrl-C (or SIGTERM), then stops it all.
set -euo pipefail
dir=$(realpath "$1"); venv=$(realpath "$2"); port=${3:-8010}
run=$(mktemp -d /tmp/course-template.XXXXXX)
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$run"; }
trap stop EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A app_port
for svc in order stock payment; do
    db_port=$(free_port)
    redis-server --port "$db_port" --bind 127.0.0.1 --requirepass redis --maxmemory 512mb \
        --save '' --appendonly no --dir "$run" --logfile "$run/$svc-db.log" &
    pids+=($!)
    app_port[$svc]=$(free_port)
    (cd "$dir/$svc" && REDIS_HOST=127.0.0.1 REDIS_PORT=$db_port REDIS_PASSWORD=redis REDIS_DB=0 \
        GATEWAY_URL=http://127.0.0.1:$port exec "$venv/bin/gunicorn" -b "127.0.0.1:${app_port[$svc]}" \
        -w 2 --timeout 30 --log-level=warning app:app) &
    pids+=($!)
done

# The template's gateway_nginx.conf, with loopback upstreams and the logs in the run folder.
cat > "$run/nginx.conf" <<CONF
pid $run/nginx.pid;
error_log $run/nginx-error.log;
events { worker_connections 2048; }
http {
    client_body_temp_path $run; proxy_temp_path $run; fastcgi_temp_path $run;
    uwsgi_temp_path $run; scgi_temp_path $run;
    upstream order-app { server 127.0.0.1:${app_port[order]}; }
    upstream payment-app { server 127.0.0.1:${app_port[payment]}; }
    upstream stock-app { server 127.0.0.1:${app_port[stock]}; }
    server {
        listen 127.0.0.1:$port;
        location /orders/ { proxy_pass http://order-app/; }
        location /payment/ { proxy_pass http://payment-app/; }
        location /stock/ { proxy_pass http://stock-app/; }
        access_log $run/access.log;
    }
}
CONF
nginx -c "$run/nginx.conf" -g 'daemon off;' &
pids+=($!)
echo "course template: http://127.0.0.1:$port (logs in $run; Ctrl-C stops)"
wait

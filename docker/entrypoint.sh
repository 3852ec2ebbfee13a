#!/bin/sh
# Entrypoint of the app image (docker/Dockerfile).
#
# 1. Settings may come as files: every file in /run/secrets (compose or swarm
#    secrets; SECRETS_DIR elsewhere) becomes the environment variable of its
#    name upper-cased, unless that variable is set and not empty already:
#    data_keys -> DATA_KEYS, pgpassword -> PGPASSWORD (libpq's password for
#    DATABASE_URL), wechat_secret -> WECHAT_SECRET, ...
# 2. The app's own commands refuse to start without DATA_KEYS and
#    PUBLIC_BASE_URL. Without DATA_KEYS each container would seal personal data
#    with a key of its own, made under var/ and lost with the container; the
#    default PUBLIC_BASE_URL (127.0.0.1) is wrong in any container, so its
#    absence means no configuration reached the container (docker/app.env);
#    nor with a setting still at app.env.example's placeholder CHANGE-ME.
set -eu

secrets_dir=${SECRETS_DIR:-/run/secrets}
if [ -d "$secrets_dir" ]; then
    for file in "$secrets_dir"/*; do
        [ -f "$file" ] || continue
        name=$(basename "$file" | tr '[:lower:]-' '[:upper:]_')
        case "$name" in
            '' | [0-9]* | *[!A-Z0-9_]*) continue ;;  # not a variable name
        esac
        eval "current=\${$name:-}"
        if [ -z "$current" ]; then
            value=$(cat "$file")  # without the trailing newline
            export "$name=$value"
        fi
    done
fi

if [ "${1:-}" = python ] && [ "${2:-}" = -m ] && [ "${3:-}" = bot ]; then
    case "${4:-}" in
        catalog | -h | --help | '') exec "$@" ;;  # no personal data, no partners
        keys)
            if [ "${5:-}" = new ]; then exec "$@"; fi  # `keys new` only prints a fresh key
            ;;
    esac
    if [ -z "${DATA_KEYS:-}" ]; then
        echo "refusing to start: DATA_KEYS is not set (the data_keys secret, or app.env; see docs/deployment.md)" >&2
        exit 64
    fi
    case "${4:-}" in
        serve | worker | run)
            if [ -z "${PUBLIC_BASE_URL:-}" ]; then
                echo "refusing to start: PUBLIC_BASE_URL is not set: no configuration reached the container" \
                    "(copy docker/app.env.example to docker/app.env; see docs/deployment.md)" >&2
                exit 64
            fi
            unfilled=$(env | sed -n 's/^\([A-Z0-9_]*\)=CHANGE-ME$/\1/p' | tr '\n' ' ')
            if [ -n "$unfilled" ]; then
                echo "refusing to start: still CHANGE-ME in docker/app.env: $unfilled" >&2
                exit 64
            fi
            ;;
    esac
fi

exec "$@"

#!/usr/bin/env bash
# Installs the servers the tests run against, if missing: MariaDB, Redis and NATS (Debian
# packages). A server whose URL is already set (MYSQL_URL, REDIS_URL, NATS_URL) is not needed.
# Also docker-compose (1.x, no Docker engine needed), which checks docker-compose.yml, and
# Chromium, which renders the printable ticket page.
set -euo pipefail

find_bin() {
  command -v "$1" 2>/dev/null && return 0
  for dir in /usr/sbin /usr/local/sbin /usr/bin /usr/local/bin /sbin /bin; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}

packages=()
if [ -z "${MYSQL_URL:-}" ] && { ! find_bin mariadbd >/dev/null || ! find_bin mariadb-install-db >/dev/null; }; then
  packages+=(mariadb-server)
fi
if [ -z "${REDIS_URL:-}" ] && ! find_bin redis-server >/dev/null; then packages+=(redis-server); fi
if [ -z "${NATS_URL:-}" ] && ! find_bin nats-server >/dev/null; then packages+=(nats-server); fi
if ! find_bin docker-compose >/dev/null; then packages+=(docker-compose); fi
# The printable ticket page is rendered by Debian's Chromium in a test (playwright-core drives it).
if [ ! -x /usr/bin/chromium ]; then packages+=(chromium); fi

[ ${#packages[@]} -eq 0 ] && exit 0

echo "install-servers: installing ${packages[*]}" >&2
if ! command -v apt-get >/dev/null; then
  echo "install-servers: no apt-get here; install ${packages[*]} yourself, or set MYSQL_URL / REDIS_URL / NATS_URL to servers you run" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=(sudo); else
    echo "install-servers: not root and no sudo; install ${packages[*]} yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
"${sudo[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${packages[@]}" >&2

#!/usr/bin/env bash
# Install the servers the tests start privately: Mosquitto, InfluxDB 1.x and
# PostgreSQL (Debian packages). The tests start and stop their own instances
# (tests/servers.py); nothing here starts a system service, and PostgreSQL's
# packaged main cluster is not even created (create_main_cluster = false).
# Also Debian's Chromium, which the portal's browser tests drive with
# Playwright (tests/portal/conftest.py): never `playwright install`, which
# downloads browsers at run time. With only the DejaVu fonts Chinese text
# renders as empty boxes in its screenshots, hence Noto CJK.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
# Debian keeps initdb off PATH, in /usr/lib/postgresql/<major>/bin.
command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ||
  need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
echo "install-servers: installing ${need[*]}" >&2
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
if [[ " ${need[*]} " == *" postgresql "* ]]; then
  # Without a main cluster the package starts no server; the tests make their own.
  "${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" |
    "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/vmi-tests.conf >/dev/null
fi
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

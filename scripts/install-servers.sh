#!/usr/bin/env bash
# Install the servers the tests start privately: Mosquitto and InfluxDB 1.x
# (Debian packages). The tests start and stop their own instances; nothing
# here starts a system service.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
[ ${#need[@]} -eq 0 ] && exit 0
echo "install-servers: installing ${need[*]}" >&2
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

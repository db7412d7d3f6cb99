#!/bin/sh
# config-init: turn the secrets in the environment (.env) into the files the
# stack reads, so no password is ever written into the repository.
#
#   init-secrets.sh              write, before the broker and the cloud start:
#                                  <auth>/passwd   broker users: vmi-cloud and every
#                                                  site of deploy/mosquitto/sites.passwd
#                                  <auth>/acl      deploy/mosquitto/acl
#                                  <config>/cloud.toml  deploy/cloud.toml with ${NAME}
#                                                  replaced by the variable's value
#   init-secrets.sh add-site SITE
#                                print the sites.passwd line for SITE's gateways; the
#                                password is $VMI_SITE_PASSWORD, or a new random one
#                                printed on stderr
#
# docker-compose.yml runs it in the Mosquitto image (it needs mosquitto_passwd).
# The INIT_* variables move the files for tests; the defaults are the
# container's paths and the users of the images (mosquitto 1883, vmi 10001).
set -eu

DEPLOY_DIR=${INIT_DEPLOY_DIR:-/deploy}
AUTH_DIR=${INIT_AUTH_DIR:-/out/mosquitto}
CONFIG_DIR=${INIT_CONFIG_DIR:-/out/vmi}
MOSQUITTO_UID=${INIT_MOSQUITTO_UID:-1883}
VMI_UID=${INIT_VMI_UID:-10001}
# Placeholders of deploy/cloud.toml; each must be set (and URL-safe).
SECRETS="VMI_MQTT_CLOUD_PASSWORD VMI_INFLUX_ADMIN_USER VMI_INFLUX_ADMIN_PASSWORD"

fail() {
    echo "config-init: $*" >&2
    exit 1
}

# Values go into URLs (user:password@host) and through sed: only characters
# that need no escaping in either. `openssl rand -hex 24` makes a good one.
url_safe() {
    name=$1
    value=$2
    case "$value" in
        '') fail "$name is empty: set it in .env (see deploy/.env.example)" ;;
        *[!A-Za-z0-9._~-]*) fail "$name may use only A-Z a-z 0-9 . _ ~ - (it goes into a URL)" ;;
    esac
}

site_id() {
    case "$1" in
        '' | vmi-cloud | *[!A-Za-z0-9._:-]*)
            fail "site id '$1': letters, digits, . _ : - only (and not vmi-cloud)" ;;
    esac
}

add_site() {
    site=$1
    site_id "$site"
    password=${VMI_SITE_PASSWORD:-}
    if [ -z "$password" ]; then
        password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
        echo "password for site $site (give it to the site's gateways): $password" >&2
    fi
    url_safe VMI_SITE_PASSWORD "$password"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    touch "$work/passwd"
    mosquitto_passwd -b "$work/passwd" "$site" "$password"
    cat "$work/passwd"
}

write_all() {
    for name in $SECRETS; do
        eval "value=\${$name:-}"
        url_safe "$name" "$value"
    done
    umask 077
    mkdir -p "$AUTH_DIR" "$CONFIG_DIR"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT

    # Site users first (comments and blank lines dropped), then the collector.
    grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$DEPLOY_DIR/mosquitto/sites.passwd" \
        >"$work/passwd" || true
    while IFS=: read -r user _; do
        site_id "$user"
    done <"$work/passwd"
    mosquitto_passwd -b "$work/passwd" vmi-cloud "$VMI_MQTT_CLOUD_PASSWORD"
    cp "$DEPLOY_DIR/mosquitto/acl" "$work/acl"

    cp "$DEPLOY_DIR/cloud.toml" "$work/cloud.toml"
    for name in $SECRETS; do
        eval "value=\${$name}"
        sed -i "s|\${$name}|$value|g" "$work/cloud.toml"
    done
    if grep -n '^[^#]*\${' "$work/cloud.toml" >&2; then
        fail "deploy/cloud.toml has placeholders this script does not fill (above)"
    fi

    # Readable by their own service only; moved into place whole.
    chmod 600 "$work/passwd" "$work/acl" "$work/cloud.toml"
    chown "$MOSQUITTO_UID:$MOSQUITTO_UID" "$work/passwd" "$work/acl"
    chown "$VMI_UID:$VMI_UID" "$work/cloud.toml"
    mv "$work/passwd" "$work/acl" "$AUTH_DIR/"
    mv "$work/cloud.toml" "$CONFIG_DIR/"
    users=$(cut -d: -f1 "$AUTH_DIR/passwd" | tr '\n' ' ')
    echo "config-init: broker users: $users; wrote $CONFIG_DIR/cloud.toml"
}

case "${1:-}" in
    '') write_all ;;
    add-site)
        [ $# -eq 2 ] || fail "usage: add-site SITE"
        add_site "$2"
        ;;
    *) fail "unknown command '$1' (no argument, or add-site SITE)" ;;
esac

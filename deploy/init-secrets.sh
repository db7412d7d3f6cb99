#!/usr/bin/env bash
# config-init: the files the stack reads, made from the secrets in the
# environment (.env) and the catalog (deploy/catalog.yaml), so no password is
# ever written into the repository.
#
#   init-secrets.sh [OPTION...]
#     before the broker and the cloud start, and again after each change of
#     the catalog (docs/deploy.md, "Add a site"):
#       <config>/cloud.toml   deploy/cloud.toml with ${NAME} replaced by the
#                             variable's value
#       the catalog database  deploy/catalog.yaml loaded into the collector's
#                             [catalog] url (deploy/load_catalog.py)
#       <auth>/passwd, <auth>/acl
#                             `vmi cloud mosquitto-config` from deploy/catalog.yaml:
#                             one MQTT user per device (of $VMI_MQTT_DEVICE_KINDS),
#                             allowed only its own vmi/v1/<site>/<device>/ topics;
#                             vmi-cloud with $VMI_MQTT_CLOUD_PASSWORD; the read-only
#                             user $VMI_MQTT_READONLY_USER if set. Users already in
#                             <auth>/passwd keep their passwords.
#       <secrets>/mqtt-passwords
#                             each new password, appended once (`<user> <password>`)
#     OPTIONs go to `vmi cloud mosquitto-config`, e.g. `--rotate gw-acme-north-01`
#     for a new password.
#
# docker-compose.yml runs it as root in the project image (it needs `vmi`, and
# chowns the files to the services that read them). The INIT_* variables move
# the files for tests; the defaults are the container's paths and the users of
# the images (mosquitto 1883, vmi 10001). INIT_CATALOG_URL replaces the
# config's [catalog] url for the load.
set -euo pipefail

DEPLOY_DIR=${INIT_DEPLOY_DIR:-/deploy}
AUTH_DIR=${INIT_AUTH_DIR:-/out/mosquitto}
CONFIG_DIR=${INIT_CONFIG_DIR:-/out/vmi}
SECRETS_DIR=${INIT_SECRETS_DIR:-/out/secrets}
MOSQUITTO_UID=${INIT_MOSQUITTO_UID:-1883}
VMI_UID=${INIT_VMI_UID:-10001}
CATALOG_URL=${INIT_CATALOG_URL:-}
CATALOG_FILE=$DEPLOY_DIR/catalog.yaml
SECRETS_FILE=$SECRETS_DIR/mqtt-passwords
READONLY_USER=${VMI_MQTT_READONLY_USER:-}
# Placeholders of deploy/cloud.toml; each must be set (and URL-safe).
SECRETS="VMI_MQTT_CLOUD_PASSWORD VMI_INFLUX_ADMIN_USER VMI_INFLUX_ADMIN_PASSWORD"

fail() {
    echo "config-init: $*" >&2
    exit 1
}

# Values go into URLs (user:password@host) and through sed: only characters
# that need no escaping in either. `openssl rand -hex 24` makes a good one.
url_safe() {
    local name=$1 value=$2
    case "$value" in
        '') fail "$name is empty: set it in .env (see deploy/.env.example)" ;;
        *[!A-Za-z0-9._~-]*) fail "$name may use only A-Z a-z 0-9 . _ ~ - (it goes into a URL)" ;;
    esac
}

work=
auth_work=
cleanup() {
    if [ -n "$work" ]; then rm -rf "$work"; fi
    if [ -n "$auth_work" ]; then rm -rf "$auth_work"; fi
}
trap cleanup EXIT

for name in $SECRETS; do
    url_safe "$name" "${!name:-}"
done
read -r -a kinds <<<"${VMI_MQTT_DEVICE_KINDS:-gateway sensor_node}"
[ "${#kinds[@]}" -gt 0 ] || fail "VMI_MQTT_DEVICE_KINDS is empty: list device kinds"
[ -f "$CATALOG_FILE" ] || fail "no catalog at $CATALOG_FILE (start from cloud/sample-catalog.yaml)"
umask 077
mkdir -p "$AUTH_DIR" "$CONFIG_DIR" "$SECRETS_DIR"

# The collector's config.
work=$(mktemp -d "$CONFIG_DIR/.config-init.XXXXXX")
cp "$DEPLOY_DIR/cloud.toml" "$work/cloud.toml"
for name in $SECRETS; do
    sed -i "s|\${$name}|${!name}|g" "$work/cloud.toml"
done
if grep -n '^[^#]*\${' "$work/cloud.toml" >&2; then
    fail "deploy/cloud.toml has placeholders this script does not fill (above)"
fi

# The catalog into the collector's database (checked whole first: a bad file
# stops here, before anything is replaced).
python "$DEPLOY_DIR/load_catalog.py" \
    --config "$work/cloud.toml" \
    --catalog "$CATALOG_FILE" \
    --uid "$VMI_UID" \
    ${CATALOG_URL:+--url "$CATALOG_URL"}

# The broker's users and ACL, made next to the current files (same file system:
# each is moved into place whole, already owned by Mosquitto). The command
# reads the current passwd to keep every existing user's password.
auth_work=$(mktemp -d "$AUTH_DIR/.config-init.XXXXXX")
if [ -f "$AUTH_DIR/passwd" ]; then
    cp "$AUTH_DIR/passwd" "$auth_work/passwd"
fi
vmi cloud mosquitto-config \
    --catalog "$CATALOG_FILE" \
    --out "$auth_work" \
    --kinds "${kinds[@]}" \
    --collector-password-env VMI_MQTT_CLOUD_PASSWORD \
    ${READONLY_USER:+--readonly-user "$READONLY_USER"} \
    --secrets-file "$SECRETS_FILE" \
    "$@"

# Readable by their own service only; moved into place whole.
chmod 600 "$auth_work/passwd" "$auth_work/acl" "$work/cloud.toml"
chown "$MOSQUITTO_UID:$MOSQUITTO_UID" "$auth_work/passwd" "$auth_work/acl"
chown "$VMI_UID:$VMI_UID" "$work/cloud.toml"
mv "$auth_work/passwd" "$auth_work/acl" "$AUTH_DIR/"
mv "$work/cloud.toml" "$CONFIG_DIR/"
echo "config-init: wrote $AUTH_DIR/passwd, $AUTH_DIR/acl and $CONFIG_DIR/cloud.toml"

#!/bin/sh
# Buildroot post-build script: stamps the firmware version (the RAUC
# anti-rollback rule compares it) and installs the RAUC keyring.
# Called with TARGET_DIR as $1; Buildroot exports BR2_EXTERNAL_GATEWAYD_PATH.
set -eu

target="$1"
mk="${BR2_EXTERNAL_GATEWAYD_PATH}/package/gatewayd/gatewayd.mk"
version=$(sed -n 's/^GATEWAYD_VERSION = //p' "$mk")
if [ -z "$version" ]; then
	echo "post-build: no GATEWAYD_VERSION in $mk" >&2
	exit 1
fi

# os-release: VERSION_ID is the firmware version RAUC bundles are
# compared with.
release="${target}/usr/lib/os-release"
if [ -f "$release" ]; then
	sed -i '/^VERSION_ID=/d;/^VERSION=/d' "$release"
fi
printf 'VERSION_ID="%s"\nVERSION="%s (gatewayd)"\n' "$version" "$version" >> "$release"

# The keyring (CA certificate) bundles must be signed under. Release
# builds pass the production CA; development builds make a throw-away
# one with scripts/rauc-dev-keys.sh. The private key never enters the
# image or this tree.
keyring="${GATEWAYD_RAUC_KEYRING:-${BR2_EXTERNAL_GATEWAYD_PATH}/keys/ca.cert.pem}"
if [ ! -f "$keyring" ]; then
	echo "post-build: RAUC keyring $keyring missing: run buildroot/scripts/rauc-dev-keys.sh or set GATEWAYD_RAUC_KEYRING" >&2
	exit 1
fi
install -D -m 0644 "$keyring" "${target}/etc/rauc/keyring.pem"

# The data partition's mount point (the partition itself is made by
# genimage and mounted by fstab).
install -d -m 0700 "${target}/var/lib/gatewayd"

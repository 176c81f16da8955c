#!/bin/sh
# Buildroot post-image script: the disk image (genimage) and the signed
# RAUC update bundle of the root filesystem.
# Arguments: $1 BINARIES_DIR, $2 the board's genimage.cfg, $3 the RAUC
# compatible string.
set -eu

images="$1"
genimage_cfg="$2"
compatible="$3"
mk="${BR2_EXTERNAL_GATEWAYD_PATH}/package/gatewayd/gatewayd.mk"
version=$(sed -n 's/^GATEWAYD_VERSION = //p' "$mk")
keys="${GATEWAYD_RAUC_KEYS:-${BR2_EXTERNAL_GATEWAYD_PATH}/keys}"

# The data partition: an empty ext4 labelled "data".
rm -f "${images}/data.ext4"
mkfs.ext4 -q -L data -O ^metadata_csum "${images}/data.ext4" 64M

tmp="${BUILD_DIR:-/tmp}/genimage.tmp"
rm -rf "$tmp"
genimage --rootpath "${TARGET_DIR}" --tmppath "$tmp" --inputpath "$images" \
	--outputpath "$images" --config "$genimage_cfg"

# The update bundle: manifest from the template, then sign.
bundle_dir="${images}/rauc-bundle"
rm -rf "$bundle_dir"
mkdir -p "$bundle_dir"
cp "${images}/rootfs.ext4" "${bundle_dir}/rootfs.ext4"
sed -e "s/@COMPATIBLE@/${compatible}/" -e "s/@VERSION@/${version}/" \
	"${BR2_EXTERNAL_GATEWAYD_PATH}/board/gatewayd/common/rauc/manifest.raucm.in" > "${bundle_dir}/manifest.raucm"
rm -f "${images}/gatewayd-${version}.raucb"
rauc bundle --cert="${keys}/signing.cert.pem" --key="${keys}/signing.key.pem" \
	"$bundle_dir" "${images}/gatewayd-${version}.raucb"

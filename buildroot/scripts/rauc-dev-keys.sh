#!/bin/sh
# Makes a throw-away development CA and signing key for RAUC bundles in
# buildroot/keys/ (git-ignored). Production keys live offline or in an
# HSM (rauc bundle --key=pkcs11:...); only the CA certificate goes into
# images, as /etc/rauc/keyring.pem.
set -eu

dir="${1:-$(dirname "$0")/../keys}"
mkdir -p "$dir"
cd "$dir"
if [ -f ca.cert.pem ]; then
	echo "rauc-dev-keys: $dir/ca.cert.pem exists; not overwriting" >&2
	exit 0
fi
openssl req -x509 -newkey rsa:4096 -nodes -days 3650 -subj "/O=gatewayd development/CN=gatewayd dev CA" \
	-keyout ca.key.pem -out ca.cert.pem
openssl req -newkey rsa:4096 -nodes -subj "/O=gatewayd development/CN=gatewayd dev signing" \
	-keyout signing.key.pem -out signing.csr.pem
openssl x509 -req -in signing.csr.pem -CA ca.cert.pem -CAkey ca.key.pem -CAcreateserial -days 1825 \
	-extfile /dev/stdin -out signing.cert.pem <<EXT
basicConstraints=CA:FALSE
keyUsage=digitalSignature
EXT
chmod 0600 ca.key.pem signing.key.pem
echo "rauc-dev-keys: development keys in $dir (never ship ca.key.pem or signing.key.pem)"

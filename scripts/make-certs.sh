#!/usr/bin/env bash
# Certificates for a local mTLS cluster, with openssl: a CA, a server certificate (also valid
# for client auth: the server's system workers present it to the frontend) and a client
# certificate for Switchboard's processes and the CLI. Written to $1 (default .data/cluster/certs,
# outside git); existing files are kept. Private keys are 0600 and never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.data/cluster/certs}
names=${CERT_SERVER_NAMES:-DNS:localhost,DNS:temporal,IP:127.0.0.1}
command -v openssl >/dev/null || { echo "make-certs.sh needs openssl (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077
if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=Switchboard local CA" -keyout ca-key.pem -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
issue() { # name, subject, extended key usage, subjectAltName
  [ -f "$1.pem" ] && return
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" \
    -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
    "$3" "${4:+subjectAltName=$4}" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server "/CN=temporal" serverAuth,clientAuth "$names"
issue client "/CN=switchboard" clientAuth ""
chmod 644 ca.pem server.pem client.pem
echo "$PWD"

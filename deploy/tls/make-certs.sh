#!/usr/bin/env bash
# A throwaway certificate authority and certificates for mutual TLS between silos and clients (Work:Tls).
#
#   deploy/tls/make-certs.sh DIR [CLIENT_NAME ...]
#
# Writes into DIR: ca.crt and ca.key (the authority; keep the key offline in real use), silo.crt and silo.key (server
# and client authentication: silos connect to each other), and for each client name (default: client) NAME.crt and
# NAME.key (client authentication). Each silo then runs with
#   Work__Tls__Enabled=true Work__Tls__CertificatePath=DIR/silo.crt Work__Tls__KeyPath=DIR/silo.key Work__Tls__CaPath=DIR/ca.crt
# and each client with its own certificate and the same ca.crt. Certificates last 825 days; keys are P-256.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR [CLIENT_NAME ...]}
shift || true
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(client)
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 825 -subj "/CN=Work.Orleans throwaway CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

issue() { # name usages
  local name=$1 usages=$2
  key "$name.key"
  openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=%s\nsubjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1\n' \
    "$usages" "$name" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

issue silo serverAuth,clientAuth
for client in "${clients[@]}"; do
  issue "$client" clientAuth
done
rm -f ca.srl
echo "Wrote the authority and certificates to $dir: ca.crt, silo.crt/.key, $(printf '%s.crt/.key ' "${clients[@]}")"

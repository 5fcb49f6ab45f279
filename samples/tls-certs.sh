#!/usr/bin/env bash
# Makes a private CA, a server certificate and a client certificate for 'vmafs nbd' with TLS, laid
# out the way the clients look for them (docs/recipes.md, "TLS"):
#
#   DIR/ca-cert.pem DIR/ca-key.pem            the CA (keep ca-key.pem offline in real use)
#   DIR/server-cert.pem DIR/server-key.pem    for vmafs nbd --tls-cert/--tls-key (--tls-ca DIR/ca-cert.pem)
#   DIR/client/{ca-cert,client-cert,client-key}.pem
#                                             qemu: -object tls-creds-x509,id=tls0,dir=DIR/client,endpoint=client
#                                             libnbd: nbds://HOST:PORT/EXPORT?tls-certificates=DIR/client
#
# Usage: tls-certs.sh DIR [SERVER-NAME...]   names: DNS names or IP addresses clients connect to
#        (default: localhost 127.0.0.1 ::1); the client checks the server's certificate against them.
# Needs certtool (Debian: gnutls-bin). Keys are unencrypted and readable only by their owner.
set -euo pipefail
dir=${1:?usage: tls-certs.sh DIR [SERVER-NAME...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1 ::1)
command -v certtool >/dev/null || { echo "tls-certs.sh: certtool is needed (apt-get install gnutls-bin)" >&2; exit 5; }
umask 077
mkdir -p "$dir/client"
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$1" 2>/dev/null; }

key ca-key.pem
printf 'cn = vmafs NBD CA\nca\ncert_signing_key\nexpiration_days = 3650\n' > "$tmp/ca.info"
certtool --generate-self-signed --load-privkey ca-key.pem --template "$tmp/ca.info" \
  --outfile ca-cert.pem 2>/dev/null

{
  printf 'organization = vmafs\ncn = %s\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 825\n' "${names[0]}"
  for n in "${names[@]}"; do
    if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then printf 'ip_address = %s\n' "$n"; else printf 'dns_name = %s\n' "$n"; fi
  done
} > "$tmp/server.info"
key server-key.pem
certtool --generate-certificate --load-privkey server-key.pem --load-ca-certificate ca-cert.pem \
  --load-ca-privkey ca-key.pem --template "$tmp/server.info" --outfile server-cert.pem 2>/dev/null

printf 'organization = vmafs\ncn = nbd-client\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 825\n' > "$tmp/client.info"
key client/client-key.pem
certtool --generate-certificate --load-privkey client/client-key.pem --load-ca-certificate ca-cert.pem \
  --load-ca-privkey ca-key.pem --template "$tmp/client.info" --outfile client/client-cert.pem 2>/dev/null
cp ca-cert.pem client/ca-cert.pem
echo "tls-certs.sh: made $dir/{ca-cert,server-cert,server-key}.pem and $dir/client/ for ${names[*]}"

#!/usr/bin/env bash
# Fills an overlay's secrets: deploy/secrets.sh trial|production
#   parameters.env  from parameters.env.example, @key → a random key, @password → a random password (kept if present)
#   connections.env trial only: connections.env.template with those passwords in place of ${name}
# Both files stay on your machine (.gitignore); kustomize turns them into the Secrets the pods read.
set -euo pipefail
overlay="$(dirname "$0")/${1:?usage: deploy/secrets.sh trial|production}"
umask 077
if [ ! -f "$overlay/parameters.env" ]; then
  while IFS= read -r line; do
    case "$line" in
      \#*|'') ;;
      *=@key) echo "${line%=*}=$(openssl rand -base64 32)" ;;
      *=@password) echo "${line%=*}=$(openssl rand -hex 24)" ;;
      *) echo "$line" ;;
    esac
  done < "$overlay/parameters.env.example" > "$overlay/parameters.env"
  echo "Wrote $overlay/parameters.env: keep it; a new vault-key or signing-keys-key cannot read what the old one encrypted."
fi
if [ -f "$overlay/connections.env.template" ] && [ ! -f "$overlay/connections.env" ]; then
  connections=$(grep -v '^#' "$overlay/connections.env.template")
  while IFS='=' read -r name value; do
    connections=${connections//"\${$name}"/$value}
  done < "$overlay/parameters.env"
  echo "$connections" > "$overlay/connections.env"
  echo "Wrote $overlay/connections.env."
elif [ ! -f "$overlay/connections.env" ]; then
  echo "Now write $overlay/connections.env: your servers' connection strings, in the form of connections.env.example."
fi

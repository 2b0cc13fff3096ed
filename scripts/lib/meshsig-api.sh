#!/usr/bin/env bash
# Shared helpers of register-agent.sh and unregister-agent.sh: call the
# meshsig REST API with curl. Request bodies are files built by jq (never
# JSON pasted from strings); the API token goes to curl through a header
# file (never the command line), and only to a server that first proved it
# holds it (docs/decisions/0034, as the CLI does); every temporary file is
# 0600 in a 0700 folder removed on exit.
# shellcheck shell=bash

umask 077
MESHSIG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/meshsig-script.XXXXXX")"
readonly MESHSIG_TMP
trap 'rm -rf -- "$MESHSIG_TMP"' EXIT

# The calling script's usage line ($USAGE: its arguments), then exit 2.
usage() {
  echo "usage: $(basename "$0") ${USAGE:-}" >&2
  exit 2
}

die() {
  printf '%s: %s\n' "$(basename "$0")" "$1" >&2
  exit "${2:-1}"
}

need_tools() {
  local tool
  for tool in curl jq; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required (Debian: apt-get install $tool)"
  done
}

# The bytes of stdin as lowercase hex, on one line.
hex_of() {
  od -An -v -tx1 | tr -d ' \n'
}

# The printf %b escapes (\xHH…) of a hex string.
escapes_of() {
  local hex="$1" out='' i
  for ((i = 0; i < ${#hex}; i += 2)); do out+="\\x${hex:i:2}"; done
  printf '%s' "$out"
}

# hmac_b64url KEY MESSAGE — HMAC-SHA256 (RFC 2104) of MESSAGE under KEY,
# base64url without padding, with coreutils alone. KEY stays in this shell
# (builtins and pipes): never on a command line, which every local user can
# read in /proc.
hmac_b64url() {
  local key="$1" msg="$2" key_hex ipad='' opad='' byte i inner
  key_hex="$(printf '%s' "$key" | hex_of)"
  if [[ ${#key_hex} -gt 128 ]]; then key_hex="$(printf '%s' "$key" | sha256sum | cut -c1-64)"; fi
  while [[ ${#key_hex} -lt 128 ]]; do key_hex+='00'; done
  for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key_hex:i:2}))
    printf -v ipad '%s\\x%02x' "$ipad" $((byte ^ 0x36))
    printf -v opad '%s\\x%02x' "$opad" $((byte ^ 0x5c))
  done
  inner="$({ printf '%b' "$ipad"; printf '%s' "$msg"; } | sha256sum | cut -c1-64)"
  { printf '%b' "$opad"; printf '%b' "$(escapes_of "$inner")"; } | sha256sum | cut -c1-64 |
    { read -r hex; printf '%b' "$(escapes_of "$hex")"; } | base64 -w0 | tr '+/' '-_' | tr -d '='
}

# The API token of the meshsig home, or nothing.
home_token() {
  local home="${MESHSIG_HOME:-$HOME/.meshsig}"
  if [[ -r "$home/api-token" ]]; then tr -d '[:space:]' <"$home/api-token"; fi
}

# prove_server KEY [DOMAIN CREDENTIAL_ID] — true when the server at
# $MESHSIG_SERVER proves it holds KEY (api/token-proof.ts): GET /health with a
# fresh challenge and no token is answered with HMAC-SHA256 under KEY of
# DOMAIN, of the address and port the request reached, which must be those
# curl connected to, and of the challenge. KEY is the operator token (DOMAIN
# meshsig/v1/token-proof), or an agent credential's SHA-256 in hex (DOMAIN
# meshsig/v1/credential-proof, named by CREDENTIAL_ID: see prove_credential).
# Then MESHSIG_PIN holds curl's --connect-to for that address and port, so
# what is sent next goes nowhere else. Exit 3 when nothing answers.
prove_server() {
  local key="$1" domain="${2:-meshsig/v1/token-proof}" id="${3:-}" challenge dump="$MESHSIG_TMP/proof-headers"
  local ends ip port proof
  local -a named=()
  [[ -z "$id" ]] || named=(-H "X-Meshsig-Credential-Id: $id")
  challenge="$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
  ends="$(curl -sS --noproxy '*' -o /dev/null -D "$dump" -w '%{remote_ip} %{remote_port}' "${named[@]}" \
    -H "X-Meshsig-Token-Challenge: $challenge" -- "${MESHSIG_SERVER}/health")" ||
    die "cannot reach the meshsig node at $MESHSIG_SERVER" 3
  read -r ip port <<<"$ends"
  ip="${ip,,}"
  if [[ "$ip" == ::ffff:*.* ]]; then ip="${ip#::ffff:}"; fi
  proof="$(tr -d '\r' <"$dump" | awk -F': *' 'tolower($1) == "x-meshsig-token-proof" { print $2 }' | tail -n1)"
  [[ -n "$proof" && -n "$port" ]] || return 1
  [[ "$proof" == "$(hmac_b64url "$key" "$(printf '%s\n%s %s\n%s' "$domain" "$ip" "$port" "$challenge")")" ]] ||
    return 1
  if [[ "$ip" == *:* ]]; then ip="[$ip]"; fi
  MESHSIG_PIN=(--connect-to "::$ip:$port")
}

# prove_credential CREDENTIAL — prove_server for an agent credential: the node
# keeps only its SHA-256, so it proves that hash, named by its first 16 hex
# digits (nothing of the credential itself). The credential stays in this
# shell (builtins and pipes).
prove_credential() {
  local hash
  hash="$(printf '%s' "$1" | sha256sum | cut -c1-64)"
  prove_server "$hash" meshsig/v1/credential-proof "${hash:0:16}"
}

# Write the header file curl reads with -H @file: for a state change (any
# method but GET; reads need no authority, docs/protocol.md §8), the bearer
# token of the meshsig home, needed off loopback and to revoke, once the
# server proved it holds it (asked once per run); without the proof the
# token is not sent, and a warning says so.
MESHSIG_HEADERS="$MESHSIG_TMP/headers"
MESHSIG_PROVEN=''
MESHSIG_PIN=()
write_headers() {
  local method="$1" token
  : >"$MESHSIG_HEADERS"
  [[ "$method" != GET ]] || return 0
  token="$(home_token)"
  [[ -n "$token" ]] || return 0
  if [[ -z "$MESHSIG_PROVEN" ]]; then
    MESHSIG_PROVEN=no
    if prove_server "$token"; then
      MESHSIG_PROVEN=yes
    else
      printf '%s: warning: %s did not prove it holds the API token of %s; the token is not sent\n' \
        "$(basename "$0")" "$MESHSIG_SERVER" "${MESHSIG_HOME:-$HOME/.meshsig}" >&2
    fi
  fi
  if [[ "$MESHSIG_PROVEN" == yes ]]; then printf 'Authorization: Bearer %s\n' "$token" >"$MESHSIG_HEADERS"; fi
}

# api METHOD PATH [BODY_FILE] — prints the response body; fails with the
# node's error message on a non-2xx answer.
api() {
  local method="$1" path="$2" body="${3:-}" out="$MESHSIG_TMP/response.json" status
  write_headers "$method"
  local -a args=(-sS --noproxy '*' "${MESHSIG_PIN[@]}" -X "$method" -H @"$MESHSIG_HEADERS" -H 'accept: application/json')
  args+=(-o "$out" -w '%{http_code}')
  if [[ -n "$body" ]]; then
    args+=(-H 'content-type: application/json' --data-binary @"$body")
  fi
  status="$(curl "${args[@]}" -- "${MESHSIG_SERVER}${path}")" || die "cannot reach the meshsig node at $MESHSIG_SERVER" 3
  if [[ "$status" -lt 200 || "$status" -ge 300 ]]; then
    die "the node answered $status: $(jq -r '.error // "unknown error"' <"$out" 2>/dev/null || echo 'unreadable answer')"
  fi
  cat -- "$out"
}

MESHSIG_SERVER="${MESHSIG_SERVER:-http://127.0.0.1:4888}"
MESHSIG_SERVER="${MESHSIG_SERVER%/}"

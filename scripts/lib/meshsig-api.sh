#!/usr/bin/env bash
# Shared helpers of register-agent.sh and unregister-agent.sh: call the
# meshsig REST API with curl. Request bodies are files built by jq (never
# JSON pasted from strings); the API token goes to curl through a header
# file (never the command line); every temporary file is 0600 in a 0700
# folder removed on exit.
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

# The header file curl reads with -H @file: the bearer token when the
# meshsig home holds one (needed when the node is not on loopback).
header_file() {
  local home="${MESHSIG_HOME:-$HOME/.meshsig}" file="$MESHSIG_TMP/headers"
  : >"$file"
  if [[ -r "$home/api-token" ]]; then
    printf 'Authorization: Bearer %s\n' "$(tr -d '[:space:]' <"$home/api-token")" >"$file"
  fi
  printf '%s\n' "$file"
}

# api METHOD PATH [BODY_FILE] — prints the response body; fails with the
# node's error message on a non-2xx answer.
api() {
  local method="$1" path="$2" body="${3:-}" out="$MESHSIG_TMP/response.json" status
  local -a args=(-sS -X "$method" -H @"$(header_file)" -H 'accept: application/json' -o "$out" -w '%{http_code}')
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

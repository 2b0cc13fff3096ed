#!/usr/bin/env bash
# install.sh — put the OpenClaw agents of this machine on meshsig (the seed
# README's "OpenClaw (Native)" flow), against a running meshsig node:
#
#   1. discovers the agents: every folder <base>/<name>/ holding an invoke.sh
#      (<base>: --openclaw-dir, $OPENCLAW_AGENTS_DIR, or ~/.openclaw/agents);
#   2. registers each with the node (POST /agents/register): the node keeps
#      its keys; the agent credential (msag_…) it answers with once is stored
#      in a 0600 file in the 0700 folder $MESHSIG_HOME/openclaw/credentials,
#      never printed; the private key of the answer is discarded;
#   3. makes a verified connection between every two agents (POST /handshake,
#      the initiator's credential as bearer);
#   4. replaces each invoke.sh with a signed wrapper: the original is kept as
#      invoke.sh.meshsig-orig; the wrapper sends what it is asked to deliver
#      through POST /messages/send as its agent (its credential as bearer) and
#      runs the original only when the node accepted the signed message.
#
# A second run changes nothing. `--uninstall` puts every original invoke.sh
# back byte for byte (identities stay registered: revoke one with
# scripts/unregister-agent.sh).
#
# Agent names are data from folder names: they reach jq only as --arg values
# and curl only inside files; nothing here evaluates them. The operator token
# ($MESHSIG_HOME/api-token) and the credentials go to curl through header
# files, never on a command line.
#
#   bash scripts/install.sh [--server URL] [--openclaw-dir DIR] [--uninstall]
set -euo pipefail
# shellcheck source=scripts/lib/meshsig-api.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib/meshsig-api.sh"

MESHSIG_HOME="${MESHSIG_HOME:-$HOME/.meshsig}"
STATE_DIR="$MESHSIG_HOME/openclaw"
CRED_DIR="$STATE_DIR/credentials"
STATE_FILE="$STATE_DIR/agents.json"
ORIG_SUFFIX='.meshsig-orig'
SIDECAR_SUFFIX='.meshsig.json'

usage() {
  echo "usage: $(basename "$0") [--server URL] [--openclaw-dir DIR] [--uninstall]" >&2
  exit 2
}

say() { printf '%s\n' "$*" >&2; }

# The first two lines of every wrapper: how a wrapper of an earlier install is told apart.
WRAPPER_MARK=$'#!/usr/bin/env bash\n# meshsig signed invoke.sh (written by meshsig scripts/install.sh; the'

# The wrapper that replaces invoke.sh. Constant text: it names no agent; it
# reads who it is from invoke.sh.meshsig.json beside it (written by jq). The
# credential goes only to a node that proves it holds it: the proof's
# functions are copied in from scripts/lib/meshsig-api.sh (declare -f).
wrapper_text() {
  printf '%s\n' "$WRAPPER_MARK"
  cat <<'WRAPPER'
# original is invoke.sh.meshsig-orig, restored by `install.sh --uninstall`).
#   invoke.sh <target-agent> [args...]
# Sends {"tool":"openclaw/invoke","target":…,"args":[…]} as a signed meshsig
# message from this agent to the target, then runs the original with the same
# arguments. Nothing is delivered unsigned: if the node refuses, this fails.
# The agent's credential is sent only to a node that first proves it holds it.
set -euo pipefail
umask 077
WRAPPER
  declare -f hex_of escapes_of hmac_b64url prove_server prove_credential
  cat <<'WRAPPER'
src="${BASH_SOURCE[0]}"
[[ "$src" == */* ]] || src="./$src"
# (a trailing "x" keeps folder names that end in a newline whole)
here="$(cd -- "${src%/*}" && pwd -P && echo x)"
here="${here%$'\n'x}"
conf="$here/invoke.sh.meshsig.json"
orig="$here/invoke.sh.meshsig-orig"
fail() { printf 'meshsig invoke.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
[[ $# -ge 1 ]] || fail 'usage: invoke.sh <target-agent> [args...]' 2
for tool in curl jq; do command -v "$tool" >/dev/null 2>&1 || fail "$tool is required"; done
[[ -r "$conf" && -f "$orig" ]] || fail "not installed here (missing $conf or $orig)"
did="$(jq -r '.did' <"$conf")"
cred_file="$(jq -r '.credentialFile' <"$conf")"
state="$(jq -r '.stateFile' <"$conf")"
server="${MESHSIG_SERVER:-$(jq -r '.server' <"$conf")}"
server="${server%/}"
to="$(jq -r --arg n "$1" 'first(.agents[] | select(.name == $n) | .did) // empty' <"$state")"
[[ -n "$to" ]] || fail 'the target is not an agent installed on meshsig' 1
tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshsig-invoke.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT
MESHSIG_TMP="$tmp" MESHSIG_SERVER="$server" MESHSIG_PIN=()
die() { fail "$@"; }
cred="$(tr -d '[:space:]' <"$cred_file")"
prove_credential "$cred" ||
  fail "$server did not prove it holds this agent's credential (is it the meshsig node?); nothing was sent" 3
printf 'Authorization: Bearer %s\n' "$cred" >"$tmp/headers"
jq -n --arg from "$did" --arg to "$to" --arg target "$1" \
  '{fromDid: $from, toDid: $to, message: ({tool: "openclaw/invoke", target: $target, args: $ARGS.positional} | tojson)}' \
  --args "${@:2}" >"$tmp/body.json"
status="$(curl -sS --noproxy '*' "${MESHSIG_PIN[@]}" -X POST -H @"$tmp/headers" -H 'content-type: application/json' \
  --data-binary @"$tmp/body.json" -o "$tmp/answer.json" -w '%{http_code}' -- "$server/messages/send")" ||
  fail "cannot reach the meshsig node at $server" 3
if [[ "$status" -lt 200 || "$status" -ge 300 ]]; then
  fail "the node refused to sign ($status): $(jq -r '.error // "unknown error"' <"$tmp/answer.json" 2>/dev/null || echo '?')"
fi
rm -rf -- "$tmp"
trap - EXIT
exec "$orig" "$@"
WRAPPER
}

# call METHOD PATH HEADER_FILE [BODY_FILE] — the response body on stdout;
# fails with the node's error on a non-2xx answer.
call() {
  local method="$1" path="$2" headers="$3" body="${4:-}" out="$MESHSIG_TMP/answer.json" status
  local -a args=(-sS --noproxy '*' "${MESHSIG_PIN[@]}" -X "$method" -H @"$headers" -H 'accept: application/json')
  args+=(-o "$out" -w '%{http_code}')
  [[ -z "$body" ]] || args+=(-H 'content-type: application/json' --data-binary @"$body")
  status="$(curl "${args[@]}" -- "${MESHSIG_SERVER}${path}")" || die "cannot reach the meshsig node at $MESHSIG_SERVER" 3
  if [[ "$status" -lt 200 || "$status" -ge 300 ]]; then
    die "$method $path: the node answered $status: $(jq -r '.error // "unknown error"' <"$out" 2>/dev/null || echo 'unreadable answer')"
  fi
  cat -- "$out"
}

# Whether the node knows DID $1 as an active agent (404 or revoked: no).
agent_active() {
  local out="$MESHSIG_TMP/agent.json" status
  status="$(curl -sS --noproxy '*' "${MESHSIG_PIN[@]}" -H @"$MESHSIG_TMP/operator-headers" -o "$out" -w '%{http_code}' \
    -- "${MESHSIG_SERVER}/agents/$1")" ||
    die "cannot reach the meshsig node at $MESHSIG_SERVER" 3
  [[ "$status" == 200 ]] && jq -e '.status == "active"' <"$out" >/dev/null
}

# Write $MESHSIG_TMP/agent-headers, carrying the credential stored in file $1,
# once the server proved it holds that credential (decision 0049; MESHSIG_PIN
# then pins the request to it). Without the proof nothing is sent: exit 3.
credential_headers() {
  local cred
  cred="$(tr -d '[:space:]' <"$1")"
  prove_credential "$cred" ||
    die "$MESHSIG_SERVER did not prove it holds the agent credential in $(printf '%q' "$1") (is it the meshsig node?); it was not sent" 3
  printf 'Authorization: Bearer %s\n' "$cred" >"$MESHSIG_TMP/agent-headers"
}

# Write stdin to $1 only when it differs (a second run leaves every file as it was).
write_if_changed() {
  local dest="$1" tmp
  tmp="$(mktemp "${dest%/*}/.meshsig-new.XXXXXX")"
  cat >"$tmp"
  if [[ -f "$dest" ]] && cmp -s -- "$tmp" "$dest"; then
    rm -f -- "$tmp"
  else
    chmod "${2:-600}" -- "$tmp"
    mv -f -- "$tmp" "$dest"
  fi
}

# The agent folders under $1 (NUL-separated): <base>/<name>/invoke.sh, any name.
discover() {
  local dir
  for dir in "$1"/*/; do
    [[ -f "${dir}invoke.sh" ]] || continue
    printf '%s\0' "${dir%/}"
  done
}

# The file name of an agent's credential: from its DID (base58: a safe name).
credential_file() { printf '%s/%s.credential\n' "$CRED_DIR" "${1#did:msig:}"; }

# Register the agent of folder $1 unless the state already knows a live
# registration for it; prints nothing. Updates $MESHSIG_TMP/state.json.
ensure_registered() {
  local dir="$1" name did cred answer
  name="${dir##*/}"
  did="$(jq -r --arg dir "$dir" 'first(.agents[] | select(.dir == $dir) | .did) // empty' <"$MESHSIG_TMP/state.json")"
  if [[ -n "$did" && -s "$(credential_file "$did")" ]]; then
    # still known and active at the node: nothing to do
    if agent_active "$did"; then return 0; fi
    say "meshsig: the agent of folder $(printf '%q' "$dir") is no longer active at the node; registering it again"
  fi
  if [[ ${#name} -gt 128 ]]; then
    say "meshsig: skipping $(printf '%q' "$dir"): agent names are 1 to 128 characters"
    return 0
  fi
  jq -n --arg name "$name" '{name: $name, capabilities: [{type: "openclaw"}]}' >"$MESHSIG_TMP/body.json"
  answer="$MESHSIG_TMP/registered.json"
  call POST /agents/register "$MESHSIG_TMP/operator-headers" "$MESHSIG_TMP/body.json" >"$answer"
  did="$(jq -r '.identity.did' <"$answer")"
  [[ "$did" =~ ^did:msig:[1-9A-HJ-NP-Za-km-z]+$ ]] || die 'the node answered no DID'
  jq -e '.identity.credential | type == "string" and startswith("msag_")' <"$answer" >/dev/null ||
    die 'the node answered no agent credential (is it a meshsig node that keeps agent keys?)'
  cred="$(credential_file "$did")"
  jq -j '.identity.credential' <"$answer" | write_if_changed "$cred" 600
  rm -f -- "$answer"
  jq --arg dir "$dir" --arg name "$name" --arg did "$did" --arg cred "$cred" \
    '.agents = ([.agents[] | select(.dir != $dir)] + [{name: $name, dir: $dir, did: $did, credentialFile: $cred}])' \
    <"$MESHSIG_TMP/state.json" >"$MESHSIG_TMP/state.next" && mv -f -- "$MESHSIG_TMP/state.next" "$MESHSIG_TMP/state.json"
  say "meshsig: registered $(printf '%q' "$name") as $did"
}

# Handshake between every two installed agents not yet connected.
ensure_connections() {
  local -a dids creds
  local i j connected
  mapfile -t dids < <(jq -r '.agents[].did' <"$MESHSIG_TMP/state.json")
  mapfile -t creds < <(jq -r '.agents[].credentialFile' <"$MESHSIG_TMP/state.json")
  call GET '/connections?limit=1000' "$MESHSIG_TMP/operator-headers" >"$MESHSIG_TMP/connections.json"
  for ((i = 0; i < ${#dids[@]}; i++)); do
    for ((j = i + 1; j < ${#dids[@]}; j++)); do
      connected="$(jq -r --arg a "${dids[i]}" --arg b "${dids[j]}" \
        '[.connections[] | select((.fromDid == $a and .toDid == $b) or (.fromDid == $b and .toDid == $a))] | length' \
        <"$MESHSIG_TMP/connections.json")"
      [[ "$connected" == 0 ]] || continue
      jq -n --arg from "${dids[i]}" --arg to "${dids[j]}" '{fromDid: $from, toDid: $to}' >"$MESHSIG_TMP/body.json"
      credential_headers "${creds[i]}"
      call POST /handshake "$MESHSIG_TMP/agent-headers" "$MESHSIG_TMP/body.json" >/dev/null
      say "meshsig: verified connection ${dids[i]} <-> ${dids[j]}"
    done
  done
}

# Replace <dir>/invoke.sh by the wrapper, keeping the original.
ensure_wrapped() {
  local dir="$1" did cred invoke="$1/invoke.sh"
  did="$(jq -r --arg dir "$dir" 'first(.agents[] | select(.dir == $dir) | .did) // empty' <"$MESHSIG_TMP/state.json")"
  [[ -n "$did" ]] || return 0
  cred="$(credential_file "$did")"
  jq -n --arg did "$did" --arg cred "$cred" --arg state "$STATE_FILE" --arg server "$MESHSIG_SERVER" \
    '{did: $did, credentialFile: $cred, stateFile: $state, server: $server}' |
    write_if_changed "$invoke$SIDECAR_SUFFIX" 600
  if [[ -f "$invoke" ]] && cmp -s -- "$invoke" "$MESHSIG_TMP/wrapper.sh"; then
    return 0 # already wrapped
  fi
  if [[ -e "$invoke$ORIG_SUFFIX" ]]; then
    if [[ "$(head -n 2 -- "$invoke")" == "$WRAPPER_MARK" ]]; then
      cp -- "$MESHSIG_TMP/wrapper.sh" "$invoke" # the wrapper of an earlier install
      say "meshsig: updated the wrapper $(printf '%q' "$invoke")"
    else
      say "meshsig: $(printf '%q' "$invoke") changed since it was wrapped and a backup exists; left alone"
    fi
    return 0
  fi
  mv -- "$invoke" "$invoke$ORIG_SUFFIX" # the original, untouched: bytes, mode, times
  cp -- "$MESHSIG_TMP/wrapper.sh" "$invoke"
  chmod 755 -- "$invoke"
  say "meshsig: wrapped $(printf '%q' "$invoke")"
}

install_all() {
  local base="$1" dir
  [[ -d "$base" ]] || die "no OpenClaw agents folder at $(printf '%q' "$base") (set --openclaw-dir)" 2
  mkdir -p -- "$STATE_DIR" "$CRED_DIR"
  chmod 700 -- "$STATE_DIR" "$CRED_DIR"
  # the operator token, when the home has one and the server proved it holds it (lib/meshsig-api.sh); every
  # request after goes to the address and port that proved it (MESHSIG_PIN)
  write_headers POST
  cp -- "$MESHSIG_HEADERS" "$MESHSIG_TMP/operator-headers"
  if [[ -f "$STATE_FILE" ]]; then cp -- "$STATE_FILE" "$MESHSIG_TMP/state.json"; else echo '{"agents":[]}' >"$MESHSIG_TMP/state.json"; fi
  wrapper_text >"$MESHSIG_TMP/wrapper.sh"
  local -a dirs=()
  while IFS= read -r -d '' dir; do dirs+=("$dir"); done < <(discover "$base")
  [[ ${#dirs[@]} -gt 0 ]] || say "meshsig: no agent folder with an invoke.sh under $(printf '%q' "$base")"
  for dir in "${dirs[@]}"; do ensure_registered "$dir"; done
  jq '.' <"$MESHSIG_TMP/state.json" | write_if_changed "$STATE_FILE" 600
  ensure_connections
  for dir in "${dirs[@]}"; do ensure_wrapped "$dir"; done
  jq -n --argjson n "$(jq '.agents | length' <"$STATE_FILE")" '{installed: true, agents: $n}'
}

uninstall_all() {
  local base="$1" dir invoke restored=0
  [[ -d "$base" ]] || die "no OpenClaw agents folder at $(printf '%q' "$base")" 2
  for dir in "$base"/*/; do
    invoke="${dir}invoke.sh"
    [[ -f "$invoke$ORIG_SUFFIX" ]] || continue
    mv -f -- "$invoke$ORIG_SUFFIX" "$invoke"
    rm -f -- "$invoke$SIDECAR_SUFFIX"
    restored=$((restored + 1))
  done
  jq -n --argjson n "$restored" '{uninstalled: true, restored: $n}'
}

main() {
  local base="${OPENCLAW_AGENTS_DIR:-$HOME/.openclaw/agents}" mode=install
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --server) [[ $# -ge 2 ]] || usage; MESHSIG_SERVER="${2%/}"; shift 2 ;;
      --openclaw-dir) [[ $# -ge 2 ]] || usage; base="$2"; shift 2 ;;
      --uninstall) mode=uninstall; shift ;;
      -h | --help) usage ;;
      *) die "unknown argument $(printf '%q' "$1")" 2 ;;
    esac
  done
  need_tools
  # (a trailing "x" keeps a folder name that ends in a newline whole)
  base="$(cd -- "$base" 2>/dev/null && pwd -P && echo x)" || die 'the OpenClaw agents folder does not exist' 2
  base="${base%$'\n'x}"
  if [[ "$mode" == uninstall ]]; then uninstall_all "$base"; else install_all "$base"; fi
}

main "$@"

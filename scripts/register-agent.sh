#!/usr/bin/env bash
# register-agent.sh — register an agent whose keys the local meshsig node
# keeps (POST /agents/register). Prints its DID and public key; the private
# key the node answers with once is discarded, never printed or stored: the
# node signs for the agent (messages; the signing proxy, on the listener of
# `meshsig start --proxy-agent <did>=<port>:<uid>` that deploy-proxy.sh --agent
# sends the agent's uid to).
#
#   bash scripts/register-agent.sh [--server URL] [--capability TYPE]... <agent-name>
set -euo pipefail
USAGE='[--server URL] [--capability TYPE]... <agent-name>'
# shellcheck source=scripts/lib/meshsig-api.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib/meshsig-api.sh"

main() {
  local name=''
  local -a caps=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --server) [[ $# -ge 2 ]] || usage; MESHSIG_SERVER="${2%/}"; shift 2 ;;
      --capability) [[ $# -ge 2 ]] || usage; caps+=("$2"); shift 2 ;;
      -h | --help) usage ;;
      -*) die "unknown option '$1'" 2 ;;
      *) [[ -z "$name" ]] || usage; name="$1"; shift ;;
    esac
  done
  [[ -n "$name" && ${#name} -le 128 ]] || die 'the agent name must be 1 to 128 characters' 2
  need_tools
  local body="$MESHSIG_TMP/body.json"
  jq -n --arg name "$name" '{name: $name, capabilities: ($ARGS.positional | map({type: .}))}' \
    --args "${caps[@]}" >"$body"
  api POST /agents/register "$body" |
    jq '{registered: true, did: .identity.did, publicKey: .identity.publicKey, name: .record.name}'
}

main "$@"

#!/usr/bin/env bash
# unregister-agent.sh — revoke an agent this node registered (POST
# /agents/revoke, as the node's operator). Revocation is final and reaches
# every node of the mesh; the agent is named by DID, or by name when exactly
# one active local agent has it.
#
#   bash scripts/unregister-agent.sh [--server URL] [--reason TEXT] <agent-name | did>
set -euo pipefail
USAGE='[--server URL] [--reason TEXT] <agent-name | did>'
# shellcheck source=scripts/lib/meshsig-api.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib/meshsig-api.sh"

# The DID of the one active local agent called $1.
did_of_name() {
  local list matches
  # a command substitution does not inherit set -e: a node that cannot answer (exit 3) must end the script
  # with its own code, not read as "no such agent" (review 105)
  list="$(api GET '/agents?origin=local&status=active')" || exit $?
  matches="$(jq -r --arg name "$1" '[.agents[] | select(.name == $name) | .did] | join("\n")' <<<"$list")"
  [[ -n "$matches" ]] || die "no active local agent is called '$1'"
  [[ "$(printf '%s\n' "$matches" | wc -l)" -eq 1 ]] || die "several agents are called '$1'; pass the DID: $(printf '%s ' "$matches")"
  printf '%s\n' "$matches"
}

main() {
  local target='' reason='unregistered'
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --server) [[ $# -ge 2 ]] || usage; MESHSIG_SERVER="${2%/}"; shift 2 ;;
      --reason) [[ $# -ge 2 ]] || usage; reason="$2"; shift 2 ;;
      -h | --help) usage ;;
      -*) die "unknown option '$1'" 2 ;;
      *) [[ -z "$target" ]] || usage; target="$1"; shift ;;
    esac
  done
  [[ -n "$target" ]] || usage
  need_tools
  local did="$target"
  [[ "$target" == did:* ]] || did="$(did_of_name "$target")" || exit $?
  local body="$MESHSIG_TMP/body.json"
  jq -n --arg did "$did" --arg reason "$reason" '{did: $did, reason: $reason}' >"$body"
  api POST /agents/revoke "$body" | jq '{revoked, did, reason, revokedAt}'
}

main "$@"

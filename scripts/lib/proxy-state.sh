#!/usr/bin/env bash
# What deploy-proxy.sh reads of the running node: $MESHSIG_HOME/proxy.json (the node writes it at start,
# docs/proxy.md), the one place that says which listener port signs which uid as which agent, and the
# user the node runs as (the file's owner). Sourced by deploy-proxy.sh, whose die, port_arg and
# agent_uid_arg it uses; never run alone.
# shellcheck shell=bash

# The default listener's port for gateway port $2: the one the running node wrote to $1/proxy.json (which
# must forward to that gateway). Without that file, --proxy-port is needed: a guess could hand every other
# local connection to whoever listens there.
default_proxy_port() {
  local file="$1/proxy.json" answer
  [[ -r "$file" ]] || die "cannot read $file: start the node with --proxy first, pass --home (under sudo HOME is root's), or give --proxy-port"
  command -v jq >/dev/null 2>&1 || die 'jq is required to read proxy.json (Debian: apt-get install jq), or pass --proxy-port'
  answer="$(jq -r --argjson gw "$2" '
    if .v != 2 then "" elif .gateway.port != $gw then "gateway " + (.gateway.port | tostring)
    else .listenPort | tostring end' "$file")" || die "$file is not a meshsig proxy state file"
  case "$answer" in
    '') die "$file is not a meshsig proxy state file (v2: restart the node to write it again)" ;;
    gateway*) die "the proxy in $file forwards to port ${answer#gateway }, not $2: start it with --proxy <port>:$2, or pass --proxy-port" ;;
  esac
  port_arg "the listen port in $file" "$answer"
}

# "<port> <uid>": the listener port of agent $2 (name or DID) for gateway port $3 and the only uid it
# serves, from $1/proxy.json: the node's --proxy-agent <did>=<port>:<uid>, the one source of both.
# With $4 = "port", only "<port>" (what --remove needs): a file an older node wrote (v1, no uids) does too.
agent_of() {
  local file="$1/proxy.json" answer port uid
  [[ -r "$file" ]] || die "cannot read $file: start the node with --proxy and --proxy-agent first, or pass --home"
  command -v jq >/dev/null 2>&1 || die 'jq is required (Debian: apt-get install jq)'
  answer="$(jq -r --arg agent "$2" --argjson gw "$3" --arg want "${4:-}" '
    if .v != 2 and (.v != 1 or $want != "port") then "version" elif .gateway.port != $gw then "gateway"
    else [.agents[] | select(.did == $agent or .name == $agent)]
      | if length == 1 then "\(.[0].port) \(.[0].uid // "")" elif length == 0 then "none" else "several" end
    end' "$file")" || die "$file is not a meshsig proxy state file"
  case "$answer" in
    version) die "$file names no uids (an older node wrote it): restart the node with --proxy-agent <did>=<port>:<uid>" ;;
    gateway) die "the proxy in $file does not forward to port $3" ;;
    none) die "the proxy in $file has no listener for agent '$2' (start the node with --proxy-agent <did>=<port>:<uid>)" ;;
    several) die "several agents are called '$2' in $file; pass the agent's DID" ;;
  esac
  read -r port uid <<<"$answer"
  port="$(port_arg "the listener port in $file" "$port")"
  if [[ "${4:-}" == port ]]; then
    printf '%s\n' "$port"
    return
  fi
  uid="$(agent_uid_arg "$uid")"
  printf '%s %s\n' "$port" "$uid"
}

# The uid the node runs as: --proxy-uid ($2) when given, else the owner of $1/proxy.json, which the
# node writes at start. Only that uid may answer on the listener ports (install_answer_guard).
node_uid_of() {
  local file="$1/proxy.json" owner=''
  [[ -f "$file" ]] && owner="$(stat -c %u -- "$file")"
  if [[ -n "$2" ]]; then
    [[ -z "$owner" || "$owner" == "$2" ]] ||
      die "--proxy-uid $2 is not the user the node runs as: $file belongs to uid $owner" 2
    printf '%s\n' "$2"
    return
  fi
  [[ -n "$owner" ]] || die "cannot tell which user the node runs as ($file is missing): give --proxy-uid USER, or --home"
  printf '%s\n' "$owner"
}

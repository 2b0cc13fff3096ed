#!/usr/bin/env bash
# deploy-proxy.sh — send local traffic for a gateway port through the meshsig
# signing proxy with iptables NAT rules, each caller's uid choosing the agent
# its requests are signed as (see docs/proxy.md).
#
#   bash scripts/deploy-proxy.sh [--home DIR] [--proxy-source IPV4] [--proxy-uid USER] --agent NAME|DID [--uid UID] <gatewayPort>
#   bash scripts/deploy-proxy.sh [--home DIR] [--proxy-port PORT] [--proxy-source IPV4 | --proxy-uid USER] <gatewayPort>
#   bash scripts/deploy-proxy.sh --remove <gatewayPort> [--agent NAME|DID [--home DIR]]
#   bash scripts/deploy-proxy.sh --status
#
# Rules (nat table, OUTPUT chain: connections made on this host), all to a
# local destination (-m addrtype --dst-type LOCAL) on <gatewayPort>, none
# from the proxy's own source address (127.0.0.2, so its forwarded requests
# are not redirected back to it):
#
#   per agent  -m owner --uid-owner UID -m comment meshsig-proxy:<gw>:agent:<port>:uid:<UID>
#              -j REDIRECT --to-ports <the agent's listener port>
#              (port and UID read from $MESHSIG_HOME/proxy.json: the node's --proxy-agent <did>=<port>:<uid>)
#   default    -m comment meshsig-proxy:<gw> -j REDIRECT --to-ports <proxyPort>
#
# Agent rules come before the default one. The proxy signs a connection on an
# agent listener as that agent; the default listener refuses unless the node
# was started with --proxy-sign-as-node. Each agent listener also gets a guard
# in the filter table (meshsig-proxy:<gw>:guard:<port>) that resets direct
# connections to it: only redirected ones (conntrack DNAT) get through. And
# every listener port the rules redirect to (the default one too) gets an
# answer guard (meshsig-proxy:<gw>:answer:<port>:uid:<node uid>) that rejects
# packets sent from that local port by any other user than the node's: while
# the node is down (a crash, a kill, the restart that adds an agent) the
# redirects stay, and another local user listening on the freed port would
# otherwise receive the agents' gateway traffic. With it goes a cookie guard
# (meshsig-proxy:<gw>:cookie:<port>) that drops connection openings (SYN)
# sent from that port with no socket: SYN cookies, which the owner match
# cannot see. The node's user is --proxy-uid, else the owner of proxy.json
# (the node writes it).
#
# Idempotent: re-running with the same settings changes nothing. A changed
# rule is replaced by adding the new one first and deleting the old one after,
# so no connection ever falls through unsigned in between. One uid maps to one
# agent per gateway port. Agent names and DIDs are checked against fixed
# patterns and never reach iptables or a shell as code; rule comments hold
# numbers only. Never takes or prints key material. Its helpers live next to
# it: lib/proxy-state.sh (what proxy.json says) and lib/proxy-rules.sh (finding
# rules by comment, the filter-table guards).
set -euo pipefail

readonly TAG_PREFIX='meshsig-proxy'
readonly CHAIN='OUTPUT'
readonly NAME_RE='^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
readonly DID_RE='^did:msig:[1-9A-HJ-NP-Za-km-z]{32,48}$'
readonly MAX_UID=4294967294
PROG="$(basename "$0")"
readonly PROG

usage() {
  cat >&2 <<EOF
usage: $PROG [--home DIR] [--proxy-source IPV4] [--proxy-uid USER] --agent NAME|DID [--uid UID] <gatewayPort>
       $PROG [--home DIR] [--proxy-port PORT] [--proxy-source IPV4 | --proxy-uid USER] <gatewayPort>
       $PROG --remove <gatewayPort> [--agent NAME|DID [--home DIR]]
       $PROG --status

--agent: redirect connections of the agent's uid to <gatewayPort> onto its proxy
listener (start the node with: meshsig start --proxy 4898:<gatewayPort>
--proxy-agent <did>=<port>:<uid>); port and uid come from DIR/proxy.json (default
\$MESHSIG_HOME or ~/.meshsig); --uid, if given, must be that uid. Without --agent: redirect every other local
connection to <gatewayPort> onto the default listener (--proxy-port; default:
the one in DIR/proxy.json), which refuses unless the node runs with
--proxy-sign-as-node. Only the node's user (--proxy-uid, default: the owner of
DIR/proxy.json) may answer on the listener ports.
EOF
  exit 2
}

die() {
  printf '%s: %s\n' "$PROG" "$1" >&2
  exit "${2:-1}"
}

# Print the port number in $2 (decimal, 1-65535) or fail naming $1.
port_arg() {
  local what="$1" value="$2"
  if [[ ! "$value" =~ ^[0-9]{1,5}$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
    die "$what must be an integer port 1-65535, got '$value'" 2
  fi
  printf '%d\n' "$((10#$value))"
}

ipv4_arg() {
  local value="$1" octet
  [[ "$value" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || die "--proxy-source must be an IPv4 address, got '$value'" 2
  for octet in "${BASH_REMATCH[@]:1}"; do
    ((10#$octet <= 255)) || die "--proxy-source must be an IPv4 address, got '$value'" 2
  done
  printf '%s\n' "$value"
}

# The proxy's own user (--proxy-uid): a number or an existing user name.
proxy_uid_arg() {
  local value="$1"
  if [[ "$value" =~ ^[0-9]{1,10}$ ]] && ((10#$value <= MAX_UID)); then
    printf '%d\n' "$((10#$value))"
  else
    id -u -- "$value" 2>/dev/null || die "--proxy-uid: no such user '$value'" 2
  fi
}

# The agent's uid (--uid): a number 1-4294967294. Root is refused: root can
# bypass any rule, and the node itself often runs as root.
agent_uid_arg() {
  local value="$1"
  if [[ ! "$value" =~ ^[0-9]{1,10}$ ]] || ((10#$value < 1 || 10#$value > MAX_UID)); then
    die "--uid must be a numeric uid 1-$MAX_UID (root cannot be attributed to an agent), got '$value'" 2
  fi
  printf '%d\n' "$((10#$value))"
}

agent_arg() {
  local value="$1"
  [[ "$value" =~ $NAME_RE || "$value" =~ $DID_RE ]] ||
    die "--agent must be an agent name (1-64 of A-Z a-z 0-9 . _ -) or a did:msig, got '${value:0:80}'" 2
  printf '%s\n' "$value"
}

require_root() {
  if [[ "$(id -u)" -ne 0 ]]; then
    die "must run as root: iptables changes the kernel's NAT table (run it again with sudo)"
  fi
  command -v iptables >/dev/null 2>&1 || die 'iptables is not installed (Debian: apt-get install iptables)'
}

# One run at a time: the rule numbers read below must not move under us. The lock lives in a directory only
# root can enter (/run/meshsig, 0700), never in a world-writable one such as /run/lock, where another user's
# symlink would make root truncate a file, and its flock on the file stop every run (attack review 93).
take_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  local dir=/run/meshsig
  # two runs right after boot may both make it: the loser's mkdir fails, and the check below is what protects
  [[ -e "$dir" || -L "$dir" ]] || mkdir -m 0700 -- "$dir" 2>/dev/null || true
  [[ -d "$dir" && ! -L "$dir" && "$(stat -c %u:%a -- "$dir")" == 0:700 ]] ||
    die "$dir must be a directory of root's with mode 0700 (it holds this script's lock)"
  exec 9>>"$dir/deploy-proxy.lock"
  flock -w 30 9 || die 'another deploy-proxy.sh is running'
}

# Its helpers are read from next to the script's own file, never from next to a symlink that names it: there
# another user could plant a lib/ that root would run (attack review 95).
SCRIPT_DIR="$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")"
readonly SCRIPT_DIR
# shellcheck source=lib/proxy-state.sh
source "$SCRIPT_DIR/lib/proxy-state.sh"
# shellcheck source=lib/proxy-rules.sh
source "$SCRIPT_DIR/lib/proxy-rules.sh"

# Redirect uid $3's connections to gateway port $1 onto agent port $2, exempting source $4; only uid $5 (the
# node's) may answer on port $2.
install_agent() {
  local gw="$1" port="$2" uid="$3" source="$4" node_uid="$5" first n
  local tag="${TAG_PREFIX}:${gw}:agent:${port}:uid:${uid}"
  local -a rule=(-p tcp -m addrtype --dst-type LOCAL --dport "$gw" ! -s "$source" -m owner --uid-owner "$uid"
    -m comment --comment "$tag" -j REDIRECT --to-ports "$port")
  local -a old shifted=()
  install_guard "$gw" "$port"
  install_answer_guard "$gw" "$port" "$node_uid" # before any redirect to the port: never one it lacks
  # this agent's rules (any uid) and this uid's rules (any agent): all replaced by the new one
  mapfile -t old < <(rule_numbers nat "^${TAG_PREFIX}:${gw}:agent:(${port}:uid:[0-9]+|[0-9]+:uid:${uid})\$")
  if [[ ${#old[@]} -eq 1 ]] && iptables -w -t nat -C "$CHAIN" "${rule[@]}" 2>/dev/null; then
    echo "meshsig proxy redirect for uid $uid on port $gw already installed (-> agent listener $port); nothing changed"
    return
  fi
  # the new rule goes first, ahead of every meshsig rule of this port (the default one last) ...
  first="$(rule_numbers nat "^${TAG_PREFIX}:${gw}(:|\$)" | tail -n 1)"
  if [[ -n "$first" ]]; then
    iptables -w -t nat -I "$CHAIN" "$first" "${rule[@]}"
  else
    iptables -w -t nat -A "$CHAIN" "${rule[@]}"
  fi
  # ... and only then the rules it replaces go (one number further down if at or after it)
  for n in "${old[@]}"; do
    if [[ -n "$first" ]] && ((n >= first)); then shifted+=("$((n + 1))"); else shifted+=("$n"); fi
  done
  delete_rules nat "${shifted[@]}"
  prune_guards "$gw"
  echo "installed: uid $uid's connections to port $gw now go to the agent listener on 127.0.0.1:$port"
}

# Redirect every other local connection to gateway port $1 onto the default listener $2 (only uid $3, the
# node's, may answer there); the rest ($4...) is the rule's exemption.
install_default() {
  local gw="$1" proxy_port="$2" node_uid="$3"
  shift 3
  local tag="${TAG_PREFIX}:${gw}"
  local -a rule=(-p tcp -m addrtype --dst-type LOCAL --dport "$gw" "$@"
    -m comment --comment "$tag" -j REDIRECT --to-ports "$proxy_port")
  local -a old
  install_answer_guard "$gw" "$proxy_port" "$node_uid"
  mapfile -t old < <(rule_numbers nat "^${tag}\$")
  if [[ ${#old[@]} -eq 1 ]] && iptables -w -t nat -C "$CHAIN" "${rule[@]}" 2>/dev/null; then
    echo "meshsig proxy redirect for port $gw already installed (-> $proxy_port); nothing changed"
    return
  fi
  iptables -w -t nat -A "$CHAIN" "${rule[@]}" # appended: the old rules keep their numbers
  delete_rules nat "${old[@]}"
  prune_guards "$gw" # the old default port's answer guard, when it moved
  echo "installed: other local connections to port $gw now go through the meshsig proxy on 127.0.0.1:$proxy_port"
  echo "start the proxy with: meshsig start --proxy $proxy_port:$gw"
}

# Remove every rule of gateway port $1, or with $2 only that agent listener's.
remove_rules() {
  local gw="$1" port="${2:-}" count=0
  local -a nat filter=()
  if [[ -n "$port" ]]; then
    mapfile -t nat < <(rule_numbers nat "^${TAG_PREFIX}:${gw}:agent:${port}:uid:[0-9]+\$")
  else
    mapfile -t nat < <(rule_numbers nat "^${TAG_PREFIX}:${gw}(:|\$)")
    mapfile -t filter < <(rule_numbers filter "^${TAG_PREFIX}:${gw}:(guard:[0-9]+|answer:[0-9]+:uid:[0-9]+|cookie:[0-9]+)\$")
  fi
  delete_rules nat "${nat[@]}"
  delete_rules filter "${filter[@]}"
  prune_guards "$gw"
  count=$((${#nat[@]} + ${#filter[@]}))
  echo "removed $count meshsig proxy rule(s) for port $gw"
}

show_status() {
  {
    iptables -w -t nat -S "$CHAIN"
    iptables -w -t filter -S "$CHAIN"
  } | grep -F -- "${TAG_PREFIX}:" || echo 'no meshsig proxy rules installed'
}

main() {
  local proxy_port='' source='127.0.0.2' proxy_uid='' remove='' gateway='' agent='' uid='' port='' node_uid='' given='' found=''
  local home="${MESHSIG_HOME:-${HOME:-/root}/.meshsig}"
  [[ $# -gt 0 ]] || usage
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --proxy-port) [[ $# -ge 2 ]] || usage; proxy_port="$(port_arg --proxy-port "$2")"; shift 2 ;;
      --proxy-source) [[ $# -ge 2 ]] || usage; source="$(ipv4_arg "$2")"; shift 2 ;;
      --proxy-uid) [[ $# -ge 2 ]] || usage; proxy_uid="$(proxy_uid_arg "$2")"; shift 2 ;;
      --agent) [[ $# -ge 2 ]] || usage; agent="$(agent_arg "$2")"; shift 2 ;;
      --uid) [[ $# -ge 2 ]] || usage; uid="$(agent_uid_arg "$2")"; shift 2 ;;
      --home) [[ $# -ge 2 && -n "$2" ]] || usage; home="$2"; shift 2 ;;
      --remove) [[ $# -ge 2 ]] || usage; remove="$(port_arg 'the port to remove' "$2")"; shift 2 ;;
      --status) require_root; show_status; return ;;
      -h | --help) usage ;;
      -*) die "unknown option '$1'" 2 ;;
      *) [[ -z "$gateway" ]] || usage; gateway="$(port_arg 'the gateway port' "$1")"; shift ;;
    esac
  done
  if [[ -n "$remove" ]]; then
    [[ -z "$gateway" && -z "$uid" ]] || usage
    require_root
    if [[ -n "$agent" ]]; then
      port="$(agent_of "$home" "$agent" "$remove" port)"
    fi
    take_lock
    remove_rules "$remove" "$port"
    return
  fi
  [[ -n "$gateway" ]] || usage
  if [[ -n "$agent" || -n "$uid" ]]; then
    [[ -n "$agent" ]] || die '--uid goes with --agent' 2
    require_root
    found="$(agent_of "$home" "$agent" "$gateway")" # (a failure in a here-string would not stop the script)
    read -r port given <<<"$found"
    [[ -z "$uid" || "$uid" == "$given" ]] ||
      die "the node serves agent '$agent' to uid $given only (proxy.json): to give it uid $uid, restart the node with --proxy-agent <did>=$port:$uid" 2
    uid="$given"
    [[ "$port" -ne "$gateway" ]] || die 'the agent listener port must differ from the gateway port' 2
    node_uid="$(node_uid_of "$home" "$proxy_uid")"
    [[ "$uid" != "$node_uid" ]] ||
      die "uid $uid is the node's own user (--proxy-uid, or the owner of proxy.json): it can read every custodied key and answer on every listener port; give the agent a user of its own" 2
    take_lock
    warn_sysctls
    install_agent "$gateway" "$port" "$uid" "$source" "$node_uid"
    return
  fi
  [[ -n "$proxy_port" ]] || proxy_port="$(default_proxy_port "$home" "$gateway")"
  [[ "$gateway" -ne "$proxy_port" ]] || die 'the proxy port must differ from the gateway port' 2
  require_root
  node_uid="$(node_uid_of "$home" "$proxy_uid")"
  take_lock
  warn_sysctls
  if [[ -n "$proxy_uid" ]]; then
    install_default "$gateway" "$proxy_port" "$node_uid" -m owner ! --uid-owner "$proxy_uid"
  else
    install_default "$gateway" "$proxy_port" "$node_uid" ! -s "$source"
  fi
}

main "$@"

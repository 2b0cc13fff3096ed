#!/usr/bin/env bash
# deploy-proxy.sh — send local agent traffic for a gateway port through the
# meshsig signing proxy, with one iptables NAT rule (see docs/proxy.md).
#
#   bash scripts/deploy-proxy.sh [--proxy-port 4889] [--proxy-source 127.0.0.2 | --proxy-uid USER] <gatewayPort>
#   bash scripts/deploy-proxy.sh --remove <gatewayPort>
#   bash scripts/deploy-proxy.sh --status
#
# The rule (nat table, OUTPUT chain: connections made on this host):
#
#   -p tcp -m addrtype --dst-type LOCAL --dport <gatewayPort>
#   ! -s <proxy source>            (or: -m owner ! --uid-owner <proxy uid>)
#   -m comment --comment meshsig-proxy:<gatewayPort>
#   -j REDIRECT --to-ports <proxyPort>
#
# Connections to the gateway port of a local address are redirected to the
# proxy on 127.0.0.1:<proxyPort>, except the proxy's own: it connects to the
# gateway from the source address 127.0.0.2 (`meshsig start --proxy` does so
# by default on Linux), so a forwarded request is not redirected back to it.
# With --proxy-uid the exemption is the proxy's user instead (run the node as
# a dedicated user: agents running as that user are not redirected either).
#
# Idempotent: re-running with the same settings changes nothing; with other
# settings it replaces this port's rule. --remove deletes exactly the rules
# tagged meshsig-proxy:<gatewayPort>. Never takes or prints key material.
set -euo pipefail

readonly TAG_PREFIX='meshsig-proxy'
readonly CHAIN='OUTPUT'
PROG="$(basename "$0")"
readonly PROG

usage() {
  cat >&2 <<EOF
usage: $PROG [--proxy-port PORT] [--proxy-source IPV4 | --proxy-uid USER] <gatewayPort>
       $PROG --remove <gatewayPort>
       $PROG --status

Redirects local TCP connections to <gatewayPort> to the meshsig signing proxy
(default port 4889; start it with: meshsig start --proxy 4889:<gatewayPort>).
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

uid_arg() {
  local value="$1"
  if [[ "$value" =~ ^[0-9]+$ ]]; then
    printf '%d\n' "$((10#$value))"
  else
    id -u -- "$value" 2>/dev/null || die "--proxy-uid: no such user '$value'" 2
  fi
}

require_root() {
  if [[ "$(id -u)" -ne 0 ]]; then
    die "must run as root: iptables changes the kernel's NAT table (run it again with sudo)"
  fi
  command -v iptables >/dev/null 2>&1 || die 'iptables is not installed (Debian: apt-get install iptables)'
}

# Rule numbers in the nat OUTPUT chain tagged for gateway port $1, highest first.
rule_numbers() {
  local tag="/* ${TAG_PREFIX}:$1 */"
  iptables -t nat -L "$CHAIN" -n --line-numbers | awk -v tag="$tag" 'index($0, tag) { print $1 }' | sort -rn
}

remove_rules() {
  local port="$1" number removed=0
  for number in $(rule_numbers "$port"); do
    iptables -t nat -D "$CHAIN" "$number"
    removed=$((removed + 1))
  done
  printf '%s\n' "$removed"
}

install_rule() {
  local port="$1" proxy_port="$2"
  shift 2
  local -a rule=(-p tcp -m addrtype --dst-type LOCAL --dport "$port" "$@"
    -m comment --comment "${TAG_PREFIX}:${port}" -j REDIRECT --to-ports "$proxy_port")
  if iptables -t nat -C "$CHAIN" "${rule[@]}" 2>/dev/null && [[ "$(rule_numbers "$port" | wc -l)" -eq 1 ]]; then
    echo "meshsig proxy redirect for port $port already installed (-> $proxy_port); nothing changed"
    return
  fi
  remove_rules "$port" >/dev/null
  iptables -t nat -A "$CHAIN" "${rule[@]}"
  echo "installed: local connections to port $port now go through the meshsig proxy on 127.0.0.1:$proxy_port"
  echo "start the proxy with: meshsig start --proxy $proxy_port:$port"
}

show_status() {
  iptables -t nat -S "$CHAIN" | grep -F -- "${TAG_PREFIX}:" || echo 'no meshsig proxy rules installed'
}

main() {
  local proxy_port=4889 source='127.0.0.2' uid='' remove='' gateway=''
  [[ $# -gt 0 ]] || usage
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --proxy-port) [[ $# -ge 2 ]] || usage; proxy_port="$(port_arg --proxy-port "$2")"; shift 2 ;;
      --proxy-source) [[ $# -ge 2 ]] || usage; source="$(ipv4_arg "$2")"; shift 2 ;;
      --proxy-uid) [[ $# -ge 2 ]] || usage; uid="$(uid_arg "$2")"; shift 2 ;;
      --remove) [[ $# -ge 2 ]] || usage; remove="$(port_arg 'the port to remove' "$2")"; shift 2 ;;
      --status) require_root; show_status; return ;;
      -h | --help) usage ;;
      -*) die "unknown option '$1'" 2 ;;
      *) [[ -z "$gateway" ]] || usage; gateway="$(port_arg 'the gateway port' "$1")"; shift ;;
    esac
  done
  if [[ -n "$remove" ]]; then
    [[ -z "$gateway" ]] || usage
    require_root
    echo "removed $(remove_rules "$remove") meshsig proxy rule(s) for port $remove"
    return
  fi
  [[ -n "$gateway" ]] || usage
  [[ "$gateway" -ne "$proxy_port" ]] || die 'the proxy port must differ from the gateway port' 2
  require_root
  if [[ -n "$uid" ]]; then
    install_rule "$gateway" "$proxy_port" -m owner ! --uid-owner "$uid"
  else
    install_rule "$gateway" "$proxy_port" ! -s "$source"
  fi
}

main "$@"

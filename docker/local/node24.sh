#!/usr/bin/env bash
# Node 24 for everything that runs the project's code (package.json: "engines": {"node": ">=24"}).
#   bash docker/local/node24.sh              print the directory of a Node >= 24 binary
#   bash docker/local/node24.sh CMD ARGS...  run CMD with that directory first on PATH
#   . docker/local/node24.sh                 put that directory first on PATH in this shell
# The machine's node is used when it is 24 or newer. Otherwise the npm registry's build of Node
# (package node-linux-<arch>, which holds bin/node) is unpacked into .local/node24 once and used
# from there. It is unpacked beside it, checked with --version, then renamed into place, so an
# interrupted install leaves no half-used .local/node24: the next run simply installs it again.
# Either way one line on stderr says which Node is used.

NODE24_VERSION=24.22.3 # the exact version installed into .local/node24

node24_dir() {
  local root home want current arch
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || return 1
  home=$root/.local/node24
  want=v$NODE24_VERSION

  current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$current" -ge 24 ] 2>/dev/null; then
    dirname "$(command -v node)"
    return 0
  fi
  if [ "$("$home/bin/node" --version 2>/dev/null)" = "$want" ]; then
    echo "$home/bin"
    return 0
  fi

  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) arch=x64 ;;
    Linux-aarch64 | Linux-arm64) arch=arm64 ;;
    *) echo "[node24] error: Node >= 24 is needed; install it (this script only knows Linux x64 and arm64)" >&2; return 1 ;;
  esac
  echo "[node24] installing Node $NODE24_VERSION from the npm registry (node-linux-$arch) into .local/node24 (once) ..." >&2
  (
    set -euo pipefail
    mkdir -p "$root/.local"
    # leftovers of interrupted installs (a concurrent install's directory is younger than this)
    find "$root/.local" -maxdepth 1 -name 'node24.tmp.*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
    tmp=$(mktemp -d "$root/.local/node24.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # npm pack checks the tarball against the registry's integrity hash
    npm pack "node-linux-$arch@$NODE24_VERSION" --pack-destination "$tmp" --loglevel=error >/dev/null
    tar -xzf "$tmp/node-linux-$arch-$NODE24_VERSION.tgz" -C "$tmp"
    got=$("$tmp/package/bin/node" --version) || { echo "[node24] error: the unpacked node does not run" >&2; exit 1; }
    [ "$got" = "$want" ] || { echo "[node24] error: the unpacked node says $got, not $want" >&2; exit 1; }
    if [ "$("$home/bin/node" --version 2>/dev/null)" != "$want" ]; then # else a concurrent install won
      rm -rf "$home"
      mv -T "$tmp/package" "$home"
    fi
  ) || { echo "[node24] error: could not install Node $NODE24_VERSION into $home" >&2; return 1; }
  echo "$home/bin"
}

# Puts $1 first on PATH unless `node` already resolves there, and says which Node is used.
node24_use() {
  [ "$(command -v node)" = "$1/node" ] || PATH="$1:$PATH"
  export PATH
  echo "[node24] using Node $("$1/node" --version) ($1/node)" >&2
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then # sourced
  node24_bin=$(node24_dir) && node24_use "$node24_bin" || return 1
  unset node24_bin
  return 0
fi

set -euo pipefail
bin=$(node24_dir)
if [ $# -eq 0 ]; then
  echo "[node24] Node $("$bin/node" --version) ($bin/node)" >&2
  echo "$bin"
  exit 0
fi
node24_use "$bin"
exec "$@"

#!/usr/bin/env bash
# Fails unless the default build depends on exactly ureq, serde, serde_json, thiserror and time,
# and nothing in its tree is an async runtime or appears in two versions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

direct=$(cargo tree -e normal --depth 1 --prefix none --format '{p}' | tail -n +2 \
  | awk '{print $1}' | sort -u | tr '\n' ' ')
expected="serde serde_json thiserror time ureq "
if [ "$direct" != "$expected" ]; then
  echo "direct runtime dependencies are '$direct', expected '$expected'" >&2
  exit 1
fi

tree=$(cargo tree -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
for runtime in tokio async-std smol futures futures-util async-io mio hyper; do
  if grep -qx "$runtime" <<<"$tree"; then
    echo "the default build pulls in $runtime" >&2
    exit 1
  fi
done

duplicates=$(cargo tree -e normal --duplicates --prefix none 2>/dev/null)
if [ -n "$duplicates" ]; then
  echo "crates in two versions:" >&2
  echo "$duplicates" >&2
  exit 1
fi
echo "runtime dependencies: $direct; $(wc -l <<<"$tree") crates in the tree, none async, none twice"

#!/usr/bin/env bash
# The build budget: what depending on clerk-management costs over its own runtime dependencies.
#
# Generates two binaries into target/build-budget/ and builds each, clean, in release:
#   floor  one upsert by hand with ureq, serde, serde_json, thiserror and time, with the features
#          of our Cargo.toml (scripts/build-budget/floor.rs);
#   sdk    the same upsert through clerk-management, by path (scripts/build-budget/sdk.rs).
# Both get a copy of our Cargo.lock, so they use the same versions and build offline from the
# cargo registry cache. Then it prints, and compares against the targets:
#   normal-dependency crates (cargo tree -e normal): no crate beyond the floor's but the SDK's own;
#   stripped binary size: within 0.2 MiB of the floor;
#   clean release build time: within 10 % of the floor (the fastest of the rounds for each).
# The quickstart example, when there is one, is built too and shown as context: it links the
# `testing` feature and cargo builds every dev-dependency for an example, so it is not the cost
# a user pays. See BENCHMARKS.md.
#
# Usage: bash scripts/build-budget.sh [--check]
#   --check                 exit 1 when a target is missed
#   BUILD_BUDGET_ROUNDS=N   clean builds of each binary, alternating (default 3)
#   BUILD_BUDGET_QUICKSTART=0  skip the quickstart example
set -euo pipefail
export LC_ALL=C

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/build-budget"
rounds="${BUILD_BUDGET_ROUNDS:-3}"
check=0
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        *) echo "usage: $0 [--check]" >&2; exit 2 ;;
    esac
done

# The runtime dependencies, as our Cargo.toml has them, optional ones left out.
deps="$(awk '/^\[/{on = ($0 == "[dependencies]"); next}
             on && /^[a-z]/ && !/optional *= *true/' "$root/Cargo.toml")"
names="$(printf '%s\n' "$deps" | awk '{print $1}' | sort | tr '\n' ' ')"
if [ "$names" != "serde serde_json thiserror time ureq " ]; then
    echo "error: runtime dependencies are now: $names" >&2
    echo "       update the floor (scripts/build-budget/floor.rs) and this check" >&2
    exit 1
fi

generate() { # name, source file, dependency lines
    local dir="$out/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

# A workspace of its own, so that cargo never looks for one above target/.
[workspace]

[dependencies]
$3
EOF
    cp "$2" "$dir/src/main.rs"
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
}

rm -rf "$out"
generate floor "$root/scripts/build-budget/floor.rs" "$deps"
generate sdk "$root/scripts/build-budget/sdk.rs" "clerk-management = { path = \"$root\" }"

now() { date +%s.%N; }

# Builds one binary in a fresh target directory; prints the seconds it took.
build() { # dir, target dir, cargo arguments...
    local dir="$1" target="$2"
    shift 2
    rm -rf "$target"
    local start end
    start="$(now)"
    if ! (cd "$dir" && CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_STRIP=symbols \
        cargo build --release --offline --quiet "$@" >"$target.log" 2>&1); then
        echo "error: build in $dir failed; see $target.log (offline: run 'cargo fetch' in" \
            "$root first)" >&2
        exit 1
    fi
    end="$(now)"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

min() { printf '%s\n' "$@" | sort -g | head -1; }

# Crates in the normal dependency tree, as "name version", the root package left out.
crates() { # dir, extra cargo tree arguments...
    local dir="$1"
    shift
    (cd "$dir" && cargo tree --offline -e normal --prefix none --format '{p}' "$@") \
        | awk '{print $1 " " $2}' | sort -u
}

floor_times=()
sdk_times=()
for ((round = 1; round <= rounds; round++)); do
    echo "round $round/$rounds: clean release builds..." >&2
    took="$(build "$out/floor" "$out/floor-target")"
    floor_times+=("$took")
    took="$(build "$out/sdk" "$out/sdk-target")"
    sdk_times+=("$took")
done
floor_time="$(min "${floor_times[@]}")"
sdk_time="$(min "${sdk_times[@]}")"

size() { stat -c %s "$1"; }
floor_size="$(size "$out/floor-target/release/floor")"
sdk_size="$(size "$out/sdk-target/release/sdk")"

crates "$out/floor" | grep -v '^floor ' >"$out/floor-crates.txt"
crates "$out/sdk" | grep -v '^sdk ' >"$out/sdk-crates.txt"
floor_crates="$(wc -l <"$out/floor-crates.txt")"
sdk_crates="$(wc -l <"$out/sdk-crates.txt")"
extra="$(comm -13 "$out/floor-crates.txt" "$out/sdk-crates.txt" | grep -v '^clerk-management ' \
    || true)"
duplicates="$(cd "$out/sdk" && cargo tree --offline -d -e normal --depth 0 --prefix none \
    --format '{p}' 2>/dev/null | awk 'NF {print $1 " " $2}' | sort -u | tr '\n' ' ')"

quickstart=""
if [ "${BUILD_BUDGET_QUICKSTART:-1}" != 0 ] && [ -f "$root/examples/quickstart.rs" ]; then
    echo "quickstart example: clean release build..." >&2
    quick_time="$(build "$root" "$out/quickstart-target" --example quickstart)"
    quick_size="$(size "$out/quickstart-target/release/examples/quickstart")"
    quick_crates="$(crates "$root" -e dev --features testing | grep -vc '^clerk-management ')"
    quickstart=yes
fi

mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
missed=0
verdict() { # condition (an awk expression, true when the target is met); sets $met
    if awk "BEGIN { exit !($1) }"; then met="met"; else met="MISSED"; missed=1; fi
}

time_ratio="$(awk -v a="$sdk_time" -v b="$floor_time" 'BEGIN { printf "%.3f", a / b }')"
size_ratio="$(awk -v a="$sdk_size" -v b="$floor_size" 'BEGIN { printf "%.3f", a / b }')"
size_diff="$(awk -v a="$sdk_size" -v b="$floor_size" 'BEGIN { printf "%.3f", (a - b) / 1048576 }')"
extra_count="$(printf '%s' "$extra" | grep -c . || true)"

dup_count="$(printf '%s' "$duplicates" | wc -w)"
verdict "$extra_count == 0" && crates_verdict="$met"
verdict "$dup_count == 0" && dup_verdict="$met"
verdict "$size_diff <= 0.2" && size_verdict="$met"
verdict "$time_ratio <= 1.10" && time_verdict="$met"

echo
echo "build budget ($(rustc -V), $(nproc) cores, $rounds round(s), fastest build kept)"
printf '  %-10s %9s %12s %8s\n' "" "build" "stripped" "crates"
printf '  %-10s %8ss %12s %8s\n' floor "$floor_time" "$(mib "$floor_size")" "$floor_crates"
printf '  %-10s %8ss %12s %8s\n' sdk "$sdk_time" "$(mib "$sdk_size")" "$sdk_crates"
if [ -n "$quickstart" ]; then
    printf '  %-10s %8ss %12s %8s  (context: %s)\n' quickstart "$quick_time" \
        "$(mib "$quick_size")" "$quick_crates" "testing feature and dev-dependencies; normal+dev"
fi
echo "  build times (s): floor ${floor_times[*]}; sdk ${sdk_times[*]}"
echo
echo "sdk vs floor:"
echo "  crates beyond the floor's (clerk-management aside): $extra_count  target 0: $crates_verdict"
if [ -n "$extra" ]; then printf '    %s\n' "$extra"; fi
echo "  crates in two versions: ${duplicates:-none}  target none: $dup_verdict"
echo "  stripped binary: ${size_ratio}× (+${size_diff} MiB)  target ≤ +0.2 MiB: $size_verdict"
echo "  clean release build: ${time_ratio}×  target ≤ 1.10×: $time_verdict"

if [ "$check" = 1 ] && [ "$missed" = 1 ]; then
    exit 1
fi

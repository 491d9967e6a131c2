#!/usr/bin/env bash
# Grand Paymaster build entry point (Linux). build.ps1 is its PowerShell twin: keep the two in step.
#   scripts/build.sh run     start two local anvil chains and one node (SQLite journal under ./data)
#   scripts/build.sh test    run every test
#   scripts/build.sh devnet  start only the two local anvil chains, until Ctrl-C
#   scripts/build.sh bench   run the benchmarks and print their figures
#   scripts/build.sh contracts  compile the Solidity contracts into the committed artifacts (needs Node.js)
#   scripts/build.sh sign KEY < quote.json  sign a quote's forwardRequest with a user's key (ethers), print the signature
#   scripts/build.sh gpm ARGS...  the operator CLI, e.g. `scripts/build.sh gpm pool list` (built in Release when its sources change)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller_dir="$PWD"
cd "$root"

anvil_dir="$root/.tools/anvil"
anvil_bin="$anvil_dir/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
configuration="${CONFIGURATION:-Release}"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is required ($2)" >&2; exit 1; }
}

# npm_tools DIR SOURCE MARKER WHAT: installs the packages pinned by SOURCE/package-lock.json into the git-ignored DIR,
# once (again only when the lock changes); MARKER is a path under DIR that exists once installed.
npm_tools() {
  local dir="$1" source="$2" marker="$3" what="$4"
  if [[ -e "$dir/$marker" ]] && cmp -s "$source/package-lock.json" "$dir/package-lock.json"; then
    return
  fi
  need npm "install Node.js 20+ with npm"
  echo "Installing $what into ${dir#"$root/"} (once)..."
  mkdir -p "$dir"
  cp "$source/package.json" "$source/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "error: installing $what failed" >&2; exit 1; }
}

install_anvil() {
  npm_tools "$anvil_dir" "$root/scripts/devnet" "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" anvil
}

# solc-js and OpenZeppelin for the contracts (src/GrandPaymaster.Contracts/package-lock.json).
contract_tools="$root/.tools/contracts"
contracts_dir="$root/src/GrandPaymaster.Contracts"
install_contract_tools() {
  npm_tools "$contract_tools" "$contracts_dir" "node_modules/solc" "solc-js and OpenZeppelin"
}

# ethers, for signing a forwarded request as a user's wallet would (scripts/signer; the README walk-through uses it).
signer_dir="$root/scripts/signer"
signer_tools="$root/.tools/signer"
install_signer() {
  npm_tools "$signer_tools" "$signer_dir" "node_modules/ethers" "ethers (request signer)"
}

restore_build() {
  need dotnet "install the .NET 10 SDK"
  dotnet build "$root/GrandPaymaster.sln" -c "$configuration" -nologo -v:quiet
}

# One closing line over every test project: "Tests: N passed, N failed, N skipped".
summarize_tests() {
  local passed=0 failed=0 total=0 executed=0 counters
  for trx in "$1"/*.trx; do
    [[ -f "$trx" ]] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx")
    attr() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
    passed=$((passed + $(attr passed)))
    failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
    total=$((total + $(attr total)))
    executed=$((executed + $(attr executed)))
  done
  echo "Tests: $passed passed, $failed failed, $((total - executed)) skipped"
}

export GPM_ANVIL="$anvil_bin"
export GPM_CONTRACT_TOOLS="$contract_tools"
export GPM_SIGNER_TOOLS="$signer_tools"

case "${1:-}" in
  run)
    install_anvil
    install_signer
    restore_build
    exec dotnet "$root/src/GrandPaymaster.Node/bin/$configuration/net10.0/GrandPaymaster.Node.dll" \
      --contentRoot "$root/src/GrandPaymaster.Node" --Gpm:Devnet:Enabled=true --Gpm:Persistence:DataDirectory="$root/data" "${@:2}"
    ;;
  test)
    install_anvil
    install_contract_tools
    install_signer
    restore_build
    results="$root/TestResults"
    rm -rf "$results"
    set +e
    dotnet test "$root/GrandPaymaster.sln" -c "$configuration" --no-build -nologo \
      --results-directory "$results" --logger "trx;LogFilePrefix=gpm" --logger "console;verbosity=normal" "${@:2}"
    status=$?
    set -e
    summarize_tests "$results"
    exit "$status"
    ;;
  devnet)
    install_anvil
    restore_build
    exec dotnet "$root/src/GrandPaymaster.Node/bin/$configuration/net10.0/GrandPaymaster.Node.dll" devnet \
      --contentRoot "$root/src/GrandPaymaster.Node" "${@:2}"
    ;;
  bench)
    install_anvil
    restore_build
    dotnet "$root/src/GrandPaymaster.LoadTest/bin/$configuration/net10.0/GrandPaymaster.LoadTest.dll" "${@:2}"
    ;;
  contracts)
    install_contract_tools
    need node "install Node.js 20+"
    node "$contracts_dir/compile.js" "${@:2}"
    ;;
  sign)
    install_signer >&2
    need node "install Node.js 20+"
    node "$signer_dir/sign-forward-request.js" "${@:2}"
    ;;
  gpm)
    # Built once, and again only when a source of the CLI (or the package pins) is newer than the build; build output goes
    # to stderr so that `scripts/build.sh gpm pool list --json | jq` reads gpm's answer alone. gpm runs in the caller's
    # directory (relative paths such as `--config` or `dapp policy --set` are the caller's).
    need dotnet "install the .NET 10 SDK"
    gpm_dll="$root/src/GrandPaymaster.Cli/bin/$configuration/net10.0/gpm.dll"
    if [[ ! -f "$gpm_dll" ]] || [[ -n "$(find "$root/src/GrandPaymaster.Cli" "$root/Directory.Packages.props" "$root/Directory.Build.props" \
        -newer "$gpm_dll" \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
      dotnet build "$root/src/GrandPaymaster.Cli/GrandPaymaster.Cli.csproj" -c "$configuration" -nologo -v:quiet >&2
    fi
    # On the devnet of `scripts/build.sh run`, the first admin's token is in data/operator.token: used when nothing else names one.
    if [[ -z "${GPM_TOKEN:-}" && -s "$root/data/operator.token" ]]; then
      GPM_TOKEN="$(cat "$root/data/operator.token")"
      export GPM_TOKEN
    fi
    cd "$caller_dir"
    exec dotnet "$gpm_dll" "${@:2}"
    ;;
  *)
    echo "usage: scripts/build.sh run|test|devnet|bench|contracts|sign|gpm [args...]" >&2
    exit 2
    ;;
esac

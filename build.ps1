# Grand Paymaster build entry point (PowerShell). Thin twin of scripts/build.sh: same targets, same
# dotnet/npm steps. Keep the two in step.
#   ./build.ps1 run | test | devnet | bench | contracts | sign | gpm [args...]   (sign: ./build.ps1 sign KEY < quote.json)
#   ./build.ps1 gpm pool list   the operator CLI (built in Release when its sources change)
param(
    [Parameter(Position = 0, Mandatory = $true)][ValidateSet('run', 'test', 'devnet', 'bench', 'contracts', 'sign', 'gpm')][string]$Target,
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$Rest = @()
)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$configuration = if ($env:CONFIGURATION) { $env:CONFIGURATION } else { 'Release' }
$anvilDir = Join-Path $root '.tools/anvil'
$anvilBin = Join-Path $anvilDir 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil'
$nodeDll = Join-Path $root "src/GrandPaymaster.Node/bin/$configuration/net10.0/GrandPaymaster.Node.dll"
$nodeRoot = Join-Path $root 'src/GrandPaymaster.Node'

# Installs the packages pinned by $Source/package-lock.json into the git-ignored $Dir, once (again only when the lock changes).
function Install-NpmTools([string]$Dir, [string]$Source, [string]$Marker, [string]$What) {
    $lock = Join-Path $Source 'package-lock.json'
    $installedLock = Join-Path $Dir 'package-lock.json'
    if ((Test-Path (Join-Path $Dir $Marker)) -and (Test-Path $installedLock) -and
        ((Get-FileHash $lock).Hash -eq (Get-FileHash $installedLock).Hash)) { return }
    Write-Host "Installing $What into $Dir (once)..."
    New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    Copy-Item (Join-Path $Source 'package.json'), $lock -Destination $Dir
    Push-Location $Dir
    try { npm ci --no-audit --no-fund --loglevel=error; if ($LASTEXITCODE) { throw "installing $What failed" } } finally { Pop-Location }
}

$contractTools = Join-Path $root '.tools/contracts'
$contractsDir = Join-Path $root 'src/GrandPaymaster.Contracts'
function Install-Anvil { Install-NpmTools $anvilDir (Join-Path $root 'scripts/devnet') 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil' 'anvil' }
function Install-ContractTools { Install-NpmTools $contractTools $contractsDir 'node_modules/solc' 'solc-js and OpenZeppelin' }
$signerTools = Join-Path $root '.tools/signer'
$signerDir = Join-Path $root 'scripts/signer'
function Install-Signer { Install-NpmTools $signerTools $signerDir 'node_modules/ethers' 'ethers (request signer)' }

function Build-Solution {
    dotnet build (Join-Path $root 'GrandPaymaster.sln') -c $configuration -nologo -v:quiet
    if ($LASTEXITCODE) { throw 'build failed' }
}

$env:GPM_CONTRACT_TOOLS = $contractTools
$env:GPM_SIGNER_TOOLS = $signerTools
if ($Target -eq 'sign') {
    Install-Signer *> $null
    $input | node (Join-Path $signerDir 'sign-forward-request.js') @Rest
    exit $LASTEXITCODE
}
if ($Target -eq 'gpm') {
    # Built once, and again only when a source of the CLI (or the package pins) is newer than the build; build output goes
    # to the host, not the pipeline, so `./build.ps1 gpm pool list --json | ConvertFrom-Json` reads gpm's answer alone.
    $cliDir = Join-Path $root 'src/GrandPaymaster.Cli'
    $gpmDll = Join-Path $cliDir "bin/$configuration/net10.0/gpm.dll"
    $stale = -not (Test-Path $gpmDll)
    if (-not $stale) {
        $built = (Get-Item $gpmDll).LastWriteTimeUtc
        $sources = @(Get-ChildItem $cliDir -Recurse -File -Include *.cs, *.csproj | Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' }) +
            @(Get-Item (Join-Path $root 'Directory.Packages.props'), (Join-Path $root 'Directory.Build.props'))
        $stale = @($sources | Where-Object { $_.LastWriteTimeUtc -gt $built }).Count -gt 0
    }
    if ($stale) {
        dotnet build (Join-Path $cliDir 'GrandPaymaster.Cli.csproj') -c $configuration -nologo -v:quiet | Write-Host
        if ($LASTEXITCODE) { throw 'build failed' }
    }
    # On the devnet of `run`, the first admin's token is in data/operator.token: used when GPM_TOKEN is unset.
    $devToken = Join-Path $root 'data/operator.token'
    if (-not $env:GPM_TOKEN -and (Test-Path $devToken)) { $env:GPM_TOKEN = (Get-Content -Raw $devToken).Trim() }
    dotnet $gpmDll @Rest
    exit $LASTEXITCODE
}
if ($Target -eq 'contracts') {
    Install-ContractTools
    node (Join-Path $contractsDir 'compile.js') @Rest
    exit $LASTEXITCODE
}
Install-Anvil
if ($Target -eq 'test') { Install-ContractTools }
if ($Target -in 'run', 'test') { Install-Signer }
Build-Solution
$env:GPM_ANVIL = $anvilBin
switch ($Target) {
    'run' {
        dotnet $nodeDll --contentRoot $nodeRoot --Gpm:Devnet:Enabled=true "--Gpm:Persistence:DataDirectory=$(Join-Path $root 'data')" @Rest
    }
    'test' {
        $results = Join-Path $root 'TestResults'
        Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
        dotnet test (Join-Path $root 'GrandPaymaster.sln') -c $configuration --no-build -nologo `
            --results-directory $results --logger 'trx;LogFilePrefix=gpm' --logger 'console;verbosity=normal' @Rest
        $status = $LASTEXITCODE
        # One closing line over every test project, as scripts/build.sh prints it.
        $passed = 0; $failed = 0; $skipped = 0
        foreach ($trx in Get-ChildItem $results -Filter *.trx) {
            $c = ([xml](Get-Content $trx.FullName)).TestRun.ResultSummary.Counters
            $passed += [int]$c.passed
            $failed += [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
            $skipped += [int]$c.total - [int]$c.executed
        }
        Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
        exit $status
    }
    'devnet' { dotnet $nodeDll devnet --contentRoot $nodeRoot @Rest }
    'bench' { dotnet (Join-Path $root "src/GrandPaymaster.LoadTest/bin/$configuration/net10.0/GrandPaymaster.LoadTest.dll") @Rest }
}
exit $LASTEXITCODE

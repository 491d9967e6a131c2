// Compiles contracts/*.sol with the pinned solc-js (standard JSON, cancun, optimizer 200) and writes one artifact per
// contract to the output folder (default: artifacts/): its ABI and creation bytecode, formatted the same on every run.
// Usage: node compile.js [outDir]   (needs the packages of package-lock.json: see scripts/build.sh contracts)
"use strict";
const fs = require("fs");
const path = require("path");

const here = __dirname;
const modules = process.env.GPM_CONTRACT_TOOLS ? path.join(process.env.GPM_CONTRACT_TOOLS, "node_modules") : path.join(here, "node_modules");
const solc = require(path.join(modules, "solc"));
const outDir = path.resolve(process.argv[2] || path.join(here, "artifacts"));

const sourceDir = path.join(here, "contracts");
const sources = {};
for (const file of fs.readdirSync(sourceDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[`contracts/${file}`] = { content: fs.readFileSync(path.join(sourceDir, file), "utf8") };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

function findImports(importPath) {
  const file = path.join(modules, importPath);
  return fs.existsSync(file) ? { contents: fs.readFileSync(file, "utf8") } : { error: `not found: ${importPath}` };
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

fs.mkdirSync(outDir, { recursive: true });
for (const source of Object.keys(sources)) {
  // Only the contracts declared in our own files (not the OpenZeppelin ones they import).
  for (const [name, contract] of Object.entries(output.contracts[source] || {})) {
    const artifact = { contractName: name, compiler: `solc ${solc.version()}`, evmVersion: "cancun", abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object };
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    console.log(`${name}: ${contract.evm.bytecode.object.length / 2} bytes -> ${path.relative(process.cwd(), path.join(outDir, name + ".json"))}`);
  }
}

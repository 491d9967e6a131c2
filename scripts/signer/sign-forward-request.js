// Signs the forwardRequest of a Grand Paymaster quote with a user's private key, as the user's wallet would
// (EIP-712 eth_signTypedData_v4 through ethers), and prints the 65-byte signature to pass to execute.
//   scripts/build.sh sign 0xUSER_PRIVATE_KEY < quote.json
// With --address it prints the key's address instead (to quote for that user).
"use strict";
const path = require("path");
const tools = process.env.GPM_SIGNER_TOOLS || path.join(__dirname, "..", "..", ".tools", "signer");
const { Wallet } = require(path.join(tools, "node_modules", "ethers"));

const [key, flag] = process.argv.slice(2);
if (!key) {
  console.error("usage: sign-forward-request.js 0xPRIVATE_KEY [--address] < quote.json");
  process.exit(2);
}
const wallet = new Wallet(key);
if (flag === "--address") {
  console.log(wallet.address);
  process.exit(0);
}

let input = "";
process.stdin.on("data", chunk => (input += chunk));
process.stdin.on("end", async () => {
  const quote = JSON.parse(input);
  if (!quote.forwardRequest) {
    console.error("the quote has no forwardRequest (a direct call is not signed by the user)");
    process.exit(1);
  }
  const { domain, types, message } = quote.forwardRequest.typedData;
  const { EIP712Domain, ...signedTypes } = types; // ethers derives the domain type itself
  if (message.from.toLowerCase() !== wallet.address.toLowerCase()) {
    console.error(`the request is from ${message.from}, not from this key's ${wallet.address}`);
    process.exit(1);
  }
  console.log(await wallet.signTypedData(domain, signedTypes, message));
});

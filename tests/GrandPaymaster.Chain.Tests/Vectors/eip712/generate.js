// Independent EIP-712 vectors for the forwarder's ForwardRequest (OpenZeppelin ERC2771Forwarder v5), made with ethers.
// Usage: npm ci && node generate.js   (writes forward-requests.json beside this file; commit it)
"use strict";
const fs = require("fs");
const path = require("path");
const { ethers } = require("ethers");

const types = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};

const cases = [
  { key: "0x" + "11".repeat(32), chainId: 31337n, verifyingContract: "0xE21BA131f778C848C74C5256C7c3093f71a359CF", to: "0x77FF09A4df41c93140F761eFF0C03a1d7e08a4B0", value: 0n, gas: 100000n, nonce: 0n, deadline: 1796000000n, data: "0x" },
  { key: "0x" + "22".repeat(32), chainId: 31338n, verifyingContract: "0x3C0C32759954Cac115d4Ea9497cFa1b8CDA8DF9A", to: "0xbF2a6748682d11Bf0Cae7bB914480eFFC9D3B83f", value: 0n, gas: 250000n, nonce: 7n, deadline: 281474976710655n, data: "0xdeadbeef" },
  { key: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", chainId: 1n, verifyingContract: "0x0000000000000000000000000000000000000001", to: "0x2222222222222222222222222222222222222222", value: 12345678901234567890n, gas: 30000000n, nonce: 115792089237316195423570985008687907853269984665640564039457584007913129639935n, deadline: 0n, data: "0x" + "ab".repeat(100) },
];

const vectors = cases.map((c) => {
  const wallet = new ethers.Wallet(c.key);
  const domain = { name: "GrandPaymasterForwarder", version: "1", chainId: c.chainId, verifyingContract: c.verifyingContract };
  const message = { from: wallet.address, to: c.to, value: c.value, gas: c.gas, nonce: c.nonce, deadline: c.deadline, data: c.data };
  const digest = ethers.TypedDataEncoder.hash(domain, types, message);
  const signature = wallet.signingKey.sign(digest).serialized;
  return {
    privateKey: c.key,
    domain: { ...domain, chainId: domain.chainId.toString() },
    message: { ...message, value: c.value.toString(), gas: c.gas.toString(), nonce: c.nonce.toString(), deadline: c.deadline.toString() },
    domainSeparator: ethers.TypedDataEncoder.hashDomain(domain),
    digest,
    signature,
    signer: wallet.address,
  };
});

fs.writeFileSync(path.join(__dirname, "forward-requests.json"), JSON.stringify({ generator: `ethers ${ethers.version}`, vectors }, null, 2) + "\n");
console.log(`${vectors.length} vectors written`);

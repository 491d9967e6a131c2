// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title The paymaster's trusted forwarder (ERC-2771)
/// @notice A user signs an EIP-712 ForwardRequest; a pool wallet pays the gas to call `execute`; the forwarder checks
///         the signature, the user's nonce and the deadline, then calls the target with the user appended to the data.
contract GrandPaymasterForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("GrandPaymasterForwarder") {}
}

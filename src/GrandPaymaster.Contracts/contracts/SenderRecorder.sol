// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";

/// @title An example recipient that trusts the paymaster's forwarder
/// @notice Counts calls per sender as ERC-2771 sees it: the user who signed the request, not the pool wallet that paid.
contract SenderRecorder is ERC2771Context {
    mapping(address => uint256) public calls;

    event Recorded(address indexed sender, uint256 count, bytes note);

    constructor(address trustedForwarder) ERC2771Context(trustedForwarder) {}

    function record(bytes calldata note) external {
        address sender = _msgSender();
        uint256 count = ++calls[sender];
        emit Recorded(sender, count, note);
    }
}

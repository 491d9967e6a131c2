using System.Numerics;
using GrandPaymaster.Chain.Encoding;

namespace GrandPaymaster.Chain.Rpc;

/// <summary>Decodes Solidity's <c>Error(string)</c> revert payload (selector 0x08c379a0).</summary>
public static class RevertReason
{
    private static readonly byte[] ErrorSelector = [0x08, 0xc3, 0x79, 0xa0];

    /// <summary>The revert message, or null when <paramref name="data"/> is absent or not an <c>Error(string)</c>.</summary>
    public static string? TryDecode(string? data)
    {
        if (data is null || !Hex.TryDecode(data, out var bytes) || bytes.Length < 4 + 64 || !bytes.AsSpan(0, 4).SequenceEqual(ErrorSelector))
            return null;
        var body = bytes.AsSpan(4);
        var offset = new BigInteger(body[..32], isUnsigned: true, isBigEndian: true);
        if (offset + 32 > body.Length) return null;
        var length = new BigInteger(body.Slice((int)offset, 32), isUnsigned: true, isBigEndian: true);
        var start = (int)offset + 32;
        if (start + length > body.Length) return null;
        return System.Text.Encoding.UTF8.GetString(body.Slice(start, (int)length));
    }
}

using System.Security.Cryptography;
using GrandPaymaster.Domain.Common;

namespace GrandPaymaster.Node.Api;

/// <summary>
/// API keys look like <c>gpm_{dappId}_{secret}</c>: the dApp id routes the request to its entity,
/// which compares the key's hash with the one it stores. The key itself is shown once and never kept.
/// </summary>
public static class ApiKeys
{
    public const string Header = "X-Api-Key";
    private const string Prefix = "gpm_";

    public static string Issue(DappId dapp) => $"{Prefix}{dapp.Value}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))}";

    public static bool TryRead(HttpRequest request, out DappId dapp, out string key)
    {
        dapp = default;
        key = request.Headers[Header].ToString();
        if (key.Length is < 10 or > 200 || !key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var separator = key.LastIndexOf('_');
        return separator > Prefix.Length && DappId.TryParse(key[Prefix.Length..separator], out dapp);
    }
}

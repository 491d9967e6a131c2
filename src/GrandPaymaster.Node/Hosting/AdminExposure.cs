using System.Net;
using GrandPaymaster.Node.Api;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// Where the admin API can be reached. The public devnet bootstrap token is refused (the node does not start) once anything is
/// beyond this machine; with <see cref="AdminOptions.Urls"/> the admin API listens on its own addresses, and each listener serves
/// only its own API (the connection says which listener it came through; a Host header cannot).
/// </summary>
public static class AdminExposure
{
    private const string AdminListener = "gpm.admin-listener";
    private const int MinBootstrapTokenLength = 24;

    /// <summary>Throws when the bootstrap token is the public default but the node listens or reaches chains beyond loopback, or when it is weak.</summary>
    public static void RefuseUnsafeBootstrap(IConfiguration configuration, AdminOptions admin, GpmOptions gpm)
    {
        if (admin.BootstrapToken.Length == 0) return;
        if (admin.BootstrapToken != AdminOptions.DevBootstrapToken)
        {
            if (admin.BootstrapToken.Length < MinBootstrapTokenLength)
                throw new InvalidOperationException($"Gpm:Admin:BootstrapToken must be at least {MinBootstrapTokenLength} characters (or empty once the first admin exists).");
            return;
        }

        var beyond = ListenUrls(configuration).Concat(Split(admin.Urls)).FirstOrDefault(url => !IsLoopbackUrl(url)) is { } url
            ? $"the node listens on {url}"
            : !IsLoopbackHost(gpm.Node.Hostname) ? $"cluster remoting is bound to {gpm.Node.Hostname}"
            // The chain is named, not its URL: endpoint URLs can carry provider keys and never reach a log.
            : gpm.EffectiveChains.FirstOrDefault(c => c.AllRpcUrls.Any(u => !IsLoopbackUrl(u))) is { } chain ? $"an RPC endpoint of chain {chain.Name} is not on this machine"
            : null;
        if (beyond is not null)
            throw new InvalidOperationException(
                $"Gpm:Admin:BootstrapToken is the public devnet default '{AdminOptions.DevBootstrapToken}', but {beyond}. Set your own bootstrap token (or none).");
    }

    /// <summary>With admin URLs configured: Kestrel listens on the dApp URLs and the admin URLs, and marks the admin listeners.</summary>
    public static void Listen(KestrelServerOptions kestrel, IConfiguration configuration, AdminOptions admin)
    {
        if (Split(admin.Urls).Length == 0) return;
        foreach (var url in DappUrls(configuration)) Bind(kestrel, url, isAdmin: false);
        foreach (var url in Split(admin.Urls)) Bind(kestrel, url, isAdmin: true);
    }

    /// <summary>With admin URLs configured: <c>/admin</c> only through an admin listener, the dApp API only through the others.</summary>
    public static void UseSeparateListeners(WebApplication app, AdminOptions admin)
    {
        if (Split(admin.Urls).Length == 0) return;
        app.Use(async (http, next) =>
        {
            var path = http.Request.Path;
            var shared = path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");
            var viaAdmin = http.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(AdminListener) == true;
            if (!shared && viaAdmin != path.StartsWithSegments("/admin"))
            {
                await Problems.Of(StatusCodes.Status404NotFound, "not_found", $"{http.Request.Method} {path} is not served on this address.").ExecuteAsync(http);
                return;
            }

            await next(http);
        });
    }

    private static void Bind(KestrelServerOptions kestrel, string url, bool isAdmin)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new InvalidOperationException($"Listen URL '{url}' must be http://host:port (TLS terminates in front of the node).");
        void Mark(ListenOptions listen)
        {
            if (isAdmin)
                listen.Use(next => connection =>
                {
                    connection.Items[AdminListener] = true;
                    return next(connection);
                });
        }

        if (uri.Host == "localhost") kestrel.ListenLocalhost(uri.Port, Mark);
        else if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address)) kestrel.Listen(address, uri.Port, Mark);
        else throw new InvalidOperationException($"Listen URL '{url}' must name an IP address or localhost.");
    }

    /// <summary>The dApp API's URLs, and any endpoint bound through Kestrel's own configuration (it takes precedence over <c>Urls</c>).</summary>
    private static string[] ListenUrls(IConfiguration configuration) =>
        DappUrls(configuration)
            .Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>()).ToArray();

    private static string[] DappUrls(IConfiguration configuration) => Split(configuration["urls"] ?? configuration["Urls"] ?? "http://localhost:5000");

    private static string[] Split(string urls) => urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsLoopbackUrl(string url) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) && IsLoopbackHost(uri.Host);

    private static bool IsLoopbackHost(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}

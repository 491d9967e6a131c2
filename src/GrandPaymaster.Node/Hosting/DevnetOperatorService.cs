using Akka.Actor;
using Akka.Hosting;
using GrandPaymaster.Actors.Operators;
using GrandPaymaster.Domain.Common;
using GrandPaymaster.Domain.Operators;
using GrandPaymaster.Node.Api;
using Microsoft.Extensions.Options;
using static GrandPaymaster.Domain.Operators.OperatorProtocol;

namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// On the devnet (<c>scripts/build.sh run</c>): the first admin, <c>devops</c>, is created with the bootstrap token's right
/// and its token written to <c>operator.token</c> in the data directory (mode 600), so a new user has an admin token at once.
/// Only on the devnet and with the public bootstrap token, which the node refuses beyond loopback (<see cref="AdminExposure"/>).
/// </summary>
public sealed class DevnetOperatorService(
    IOptions<GpmOptions> options, IOptions<AdminOptions> admin, IRequiredActor<OperatorRegistrySingleton> registry, TimeProvider clock,
    ILogger<DevnetOperatorService> log)
    : BackgroundService
{
    public const string TokenFile = "operator.token";
    public const string AdminId = "devops";

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        if (admin.Value.BootstrapToken != AdminOptions.DevBootstrapToken) return;
        var path = Path.GetFullPath(Path.Combine(options.Value.Persistence.DataDirectory, TokenFile));
        var proxy = await registry.GetAsync(ct);
        for (var attempt = 1; !ct.IsCancellationRequested; attempt++)
            try
            {
                var known = await proxy.Ask<Authenticated>(new Authenticate(""), TimeSpan.FromSeconds(5), ct);
                if (!known.BootstrapOpen)
                {
                    Console.WriteLine(File.Exists(path)
                        ? $"Operator token (admin '{AdminId}'): {path}"
                        : $"The first admin exists but {path} is gone: ask an admin for a token (gpm operator create).");
                    return;
                }

                var token = RegistryOperators.IssueToken();
                var meta = Meta.System("devnet", "devnet first admin", clock.GetUtcNow());
                var answer = await proxy.Ask<OperatorAnswer>(new CreateOperator(AdminId, [OperatorRole.Admin], OperatorScope.Everything,
                    RegistryOperators.HashToken(token), meta.At.AddDays(OperatorEndpoints.MaxExpiryDays), meta, ByBootstrap: true), TimeSpan.FromSeconds(5), ct);
                if (answer.Refused is { } refused) throw new InvalidOperationException(refused.Message);
                await WriteSecretAsync(path, token, ct);
                Console.WriteLine($"Operator token (admin '{AdminId}', created now): {path}");
                return;
            }
            catch (AskTimeoutException) when (attempt < 30)
            {
                // the cluster is still forming
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Could not create the devnet's first admin");
                return;
            }
    }

    /// <summary>Writes the token into a file only its owner can read, from the moment it exists.</summary>
    private static async Task WriteSecretAsync(string path, string secret, CancellationToken ct)
    {
        File.Delete(path);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var file = new StreamWriter(path, create);
        await file.WriteAsync(secret.AsMemory(), ct);
    }
}

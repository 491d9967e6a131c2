namespace GrandPaymaster.Node.Hosting;

/// <summary>
/// <c>GrandPaymaster.Node devnet</c>: only the local chains, funded, until Ctrl-C — for working on a
/// node in a debugger against chains that outlive it.
/// </summary>
public static class DevnetCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.Configure<GpmOptions>(builder.Configuration.GetSection(GpmOptions.Section));
        builder.Services.AddHttpClient(Microsoft.Extensions.Options.Options.DefaultName, c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddHostedService<DevnetHostedService>();
        using var host = builder.Build();
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
            Console.WriteLine("Devnet chains are up; Ctrl-C stops them."));
        await host.RunAsync();
        return 0;
    }
}

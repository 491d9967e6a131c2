using System.Net;

namespace GrandPaymaster.Cli.Tests;

/// <summary>Where gpm finds the node and the token: flags, then the environment, then the config file, then the default URL.</summary>
public sealed class ConfigTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "gpm-config-" + Guid.NewGuid().ToString("N"));

    private CliEnvironment Env(Dictionary<string, string>? variables = null) => new()
    {
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        Variables = variables ?? [],
        HomeDirectory = _home,
    };

    private string WriteConfig(string json, string? path = null)
    {
        path ??= GpmConfig.DefaultPath(Env());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Flags_win_over_the_environment_and_the_environment_over_the_config_file()
    {
        WriteConfig("""{"url": "http://file:1", "token": "file-token"}""");
        var env = Env(new() { ["GPM_URL"] = "http://env:2", ["GPM_TOKEN"] = "env-token" });

        var flags = GpmConfig.Resolve("http://flag:3", "flag-token", null, env);
        var environment = GpmConfig.Resolve(null, null, null, env);
        var file = GpmConfig.Resolve(null, null, null, Env());

        Assert.Equal(("http://flag:3/", "flag-token", "--url", "--token"), (flags.Url.ToString(), flags.Token, flags.UrlSource, flags.TokenSource));
        Assert.Equal(("http://env:2/", "env-token", "GPM_URL", "GPM_TOKEN"), (environment.Url.ToString(), environment.Token, environment.UrlSource, environment.TokenSource));
        Assert.Equal(("http://file:1/", "file-token"), (file.Url.ToString(), file.Token));
    }

    [Fact]
    public void Each_setting_is_taken_from_its_own_first_source()
    {
        WriteConfig("""{"url": "http://file:1", "token": "file-token"}""");

        var config = GpmConfig.Resolve(null, null, null, Env(new() { ["GPM_URL"] = "http://env:2" }));

        Assert.Equal(("http://env:2/", "file-token"), (config.Url.ToString(), config.Token));
    }

    [Fact]
    public void Without_any_setting_the_url_is_the_local_default_and_there_is_no_token()
    {
        var config = GpmConfig.Resolve(null, null, null, Env());

        Assert.Equal(new Uri(GpmConfig.DefaultUrl), config.Url);
        Assert.Equal("http://127.0.0.1:5080/", config.Url.ToString());
        Assert.Null(config.Token);
    }

    [Fact]
    public void The_config_flag_wins_over_GPM_CONFIG_which_wins_over_the_default_file()
    {
        WriteConfig("""{"url": "http://default:1"}""");
        var named = WriteConfig("""{"url": "http://named:2"}""", Path.Combine(_home, "named.json"));
        var flagged = WriteConfig("""{"url": "http://flagged:3"}""", Path.Combine(_home, "flagged.json"));
        var env = Env(new() { ["GPM_CONFIG"] = named });

        Assert.Equal("http://flagged:3/", GpmConfig.Resolve(null, null, flagged, env).Url.ToString());
        Assert.Equal("http://named:2/", GpmConfig.Resolve(null, null, null, env).Url.ToString());
        Assert.Equal("http://default:1/", GpmConfig.Resolve(null, null, null, Env()).Url.ToString());
    }

    [Fact]
    public async Task The_resolved_url_and_token_are_the_ones_the_request_goes_to()
    {
        WriteConfig("""{"url": "http://file-node:5080", "token": "file-token"}""");
        var node = StubNode.Json(HttpStatusCode.OK, "[]");

        var viaFile = await Gpm.RunAsync(["pool", "list"], handler: node, home: _home);
        var viaEnv = await Gpm.RunAsync(["pool", "list"], new Dictionary<string, string> { ["GPM_URL"] = "http://env-node:6000", ["GPM_TOKEN"] = "env-token" },
            handler: node, home: _home);
        var viaFlags = await Gpm.RunAsync(["pool", "list", "--url", "http://flag-node:7000", "--token", "flag-token"],
            new Dictionary<string, string> { ["GPM_URL"] = "http://env-node:6000", ["GPM_TOKEN"] = "env-token" }, handler: node, home: _home);

        Assert.All([viaFile, viaEnv, viaFlags], r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(
        [
            ("http://file-node:5080/admin/v1/pools", "Bearer file-token"),
            ("http://env-node:6000/admin/v1/pools", "Bearer env-token"),
            ("http://flag-node:7000/admin/v1/pools", "Bearer flag-token"),
        ], node.Requests.Select(r => (r.Uri.ToString(), r.Authorization)));
    }

    [Fact]
    public async Task A_named_config_file_that_is_missing_or_not_json_or_a_bad_url_is_a_usage_error()
    {
        var broken = WriteConfig("{ not json", Path.Combine(_home, "broken.json"));
        var node = StubNode.Json(HttpStatusCode.OK, "[]");

        var missing = await Gpm.RunAsync(["pool", "list", "--config", Path.Combine(_home, "nope.json")], handler: node, home: _home);
        var missingFromEnv = await Gpm.RunAsync(["pool", "list"], new Dictionary<string, string> { ["GPM_CONFIG"] = Path.Combine(_home, "nope.json") },
            handler: node, home: _home);
        var notJson = await Gpm.RunAsync(["pool", "list", "--config", broken], handler: node, home: _home);
        var badUrl = await Gpm.RunAsync(["pool", "list", "--url", "ftp://node"], handler: node, home: _home);

        Assert.All([missing, missingFromEnv, notJson, badUrl], r => Assert.Equal(ExitCodes.Usage, r.ExitCode));
        Assert.Contains("does not exist", missing.Error);
        Assert.Contains("does not exist", missingFromEnv.Error);
        Assert.Contains("not readable", notJson.Error);
        Assert.Contains("not an http:// or https:// URL", badUrl.Error);
        Assert.Empty(node.Requests);
    }

    public void Dispose()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }
}

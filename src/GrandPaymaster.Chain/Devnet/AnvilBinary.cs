namespace GrandPaymaster.Chain.Devnet;

/// <summary>
/// Finds the anvil binary that <c>scripts/build.sh</c> installs from npm into <c>.tools/anvil</c>.
/// <c>GPM_ANVIL</c> overrides the search; a plain <c>anvil</c> on PATH is the last resort.
/// </summary>
public static class AnvilBinary
{
    public const string EnvironmentVariable = "GPM_ANVIL";
    private const string InstalledPath = ".tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

    public static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return File.Exists(fromEnvironment)
                ? fromEnvironment
                : throw new FileNotFoundException($"{EnvironmentVariable} points at '{fromEnvironment}', which does not exist.");

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, InstalledPath);
                if (File.Exists(candidate)) return candidate;
            }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(p => Path.Combine(p, "anvil"))
            .FirstOrDefault(File.Exists);
        return onPath ?? throw new FileNotFoundException(
            "anvil not found: run 'scripts/build.sh devnet' (or 'scripts/build.sh test') once to install it into .tools/anvil, or set GPM_ANVIL.");
    }
}

using GrandPaymaster.Cli;

return await GpmApp.RunAsync(args, CliEnvironment.FromProcess());

using GrandPaymaster.Node.Hosting;

if (args.Length > 0 && args[0] == "devnet")
    return await DevnetCommand.RunAsync(args[1..]);

var app = NodeApp.Build(args);
app.Lifetime.ApplicationStarted.Register(() =>
{
    foreach (var url in app.Urls)
        Console.WriteLine($"Grand Paymaster node is up: {url}  (readiness: {url}/health/ready)");
});
await app.RunAsync();
return 0;

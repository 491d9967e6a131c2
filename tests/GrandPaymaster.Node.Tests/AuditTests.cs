using System.Net;
using System.Text;
using System.Text.Json;
using GrandPaymaster.Actors.Audit;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The tamper-evident audit log on real nodes (anvil, SQLite, HTTP): the acceptance's tamper test on four copies of a journal
/// (edit, delete, reorder, truncate rows), S12d (a row edited under a running node is reported, and the finding is journaled as
/// an operator's act), the audit query API and the journal write latency metric.
/// </summary>
public sealed class AuditTests : SingleChain
{
    private const string Target = "0x2222222222222222222222222222222222222222";

    [Fact]
    public async Task Verify_names_the_first_bad_event_in_each_tampered_copy_of_the_journal_and_passes_the_untouched_one()
    {
        string first, second;
        await using (var node = await AuditNode.StartAsync(DataDirectory, Chains))
        {
            (first, _) = await SponsoredTransactionAsync(node.Client);
            var (dapp, _) = await node.Client.RegisterDappAsync("Second");
            second = "dapp-" + dapp;
            foreach (var i in Enumerable.Range(0, 3)) await DepositAsync(node.Client, dapp, "1000", $"wire-{i}");
        }

        SqliteConnection.ClearAllPools();
        // The shutdown signed the last chain heads: dApp "Second" ends at 4 (registration and three deposits).
        var checkpoints = File.ReadAllText(Path.Combine(DataDirectory, "audit", CheckpointFile.FileName));
        Assert.Contains($"\"pid\":\"{second}\",\"seq\":4,", checkpoints);
        var rows = Rows(DataDirectory, first);
        Assert.True(rows.Count >= 4, $"{first} has {rows.Count} events");
        var deposit = rows.Single(r => r.Manifest == "dapp.evt.deposited").SequenceNr;

        var copies = Enumerable.Range(0, 5).Select(i => CopyOf(DataDirectory, $"copy{i}")).ToArray();
        EditByte(copies[1], first, deposit, "prepaid deposit");
        Execute(copies[2], $"DELETE FROM journal WHERE persistence_id = '{first}' AND sequence_number = 2");
        Execute(copies[3], $"""
            UPDATE journal SET sequence_number = -1 WHERE persistence_id = '{first}' AND sequence_number = 2;
            UPDATE journal SET sequence_number = 2 WHERE persistence_id = '{first}' AND sequence_number = 3;
            UPDATE journal SET sequence_number = 3 WHERE persistence_id = '{first}' AND sequence_number = -1;
            """);
        Execute(copies[4], $"DELETE FROM journal WHERE persistence_id = '{second}' AND sequence_number >= 3");

        var answers = new List<JsonElement>();
        var gpm = new List<(int Exit, string Out)>();
        try
        {
            foreach (var copy in copies)
            {
                await using var node = await AuditNode.StartAsync(copy, Chains);
                answers.Add(await VerifyAsync(node.Client));
                gpm.Add(await GpmVerifyAsync(node.Client));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(DataDirectory + "-copies", recursive: true);
        }

        Assert.True(answers[0].GetProperty("ok").GetBoolean(), answers[0].ToString());
        Assert.Equal(JsonValueKind.Null, answers[0].GetProperty("firstBad").ValueKind);
        Assert.True(answers[0].GetProperty("events").GetInt64() >= rows.Count + 4);
        Assert.True(answers[0].GetProperty("checkpoints").GetInt64() >= 1);
        Assert.Equal((first, deposit, "hash_mismatch"), FirstBad(answers[1]));
        Assert.Equal((first, 2L, "missing"), FirstBad(answers[2]));
        Assert.Equal((first, 2L, "reordered"), FirstBad(answers[3]));
        Assert.Equal((second, 3L, "truncated"), FirstBad(answers[4]));
        // gpm audit verify, as an operator runs it: exit 0 on the untouched copy, 4 naming the same first bad event on the others.
        Assert.Equal(0, gpm[0].Exit);
        Assert.Contains("Audit log intact", gpm[0].Out);
        foreach (var (answer, (exit, output)) in answers.Skip(1).Zip(gpm.Skip(1)))
        {
            var (pid, seq, _) = FirstBad(answer);
            Assert.Equal(4, exit);
            Assert.Contains($"TAMPERED: {pid} #{seq}", output);
        }
    }

    /// <summary>Runs <c>gpm audit verify</c> (its real entry point, in this process) against the node.</summary>
    private static async Task<(int Exit, string Out)> GpmVerifyAsync(PaymasterClient client)
    {
        var output = new StringWriter();
        var env = new GrandPaymaster.Cli.CliEnvironment
        {
            Out = output,
            Error = output,
            Variables = new Dictionary<string, string> { ["GPM_URL"] = client.Http.BaseAddress!.ToString(), ["GPM_TOKEN"] = client.OperatorToken },
            HomeDirectory = Path.Combine(Path.GetTempPath(), "gpm-no-home"),
        };
        var exit = await GrandPaymaster.Cli.GpmApp.RunAsync(["audit", "verify"], env);
        return (exit, output.ToString());
    }

    [Fact]
    public async Task A_row_edited_under_a_running_node_is_reported_by_verify_and_the_finding_is_journaled()
    {
        await using var node = await AuditNode.StartAsync(DataDirectory, Chains);
        var journal = new JournalProbe(DataDirectory);
        var (dapp, _) = await node.Client.RegisterDappAsync("Victim");
        await DepositAsync(node.Client, dapp, "5000", "wire-1");
        var clean = await VerifyAsync(node.Client);
        Assert.True(clean.GetProperty("ok").GetBoolean(), clean.ToString());
        Assert.Equal(0, journal.RowsMentioning("operators.evt.acted", "audit.verify"));

        EditByte(DataDirectory, "dapp-" + dapp, 2, "prepaid deposit");
        var found = await VerifyAsync(node.Client);

        Assert.False(found.GetProperty("ok").GetBoolean());
        Assert.Equal(("dapp-" + dapp, 2L, "hash_mismatch"), FirstBad(found));
        // The finding is the operator's act in the operators' journal: who verified, what was found.
        Assert.Equal(1, journal.RowsMentioning("operators.evt.acted", $"dapp-{dapp}#2", "operator:tester"));
        Assert.Equal(1, journal.RowsMentioning("operators.evt.acted", "audit.verify", "hash_mismatch"));
    }

    [Fact]
    public async Task The_audit_query_filters_by_entity_type_actor_and_time_pages_with_a_cursor_and_refuses_bad_input()
    {
        await using var node = await AuditNode.StartAsync(DataDirectory, Chains);
        var client = node.Client;
        var (dapp, _) = await client.RegisterDappAsync("Audited");
        foreach (var amount in new[] { "100", "200", "300" }) await DepositAsync(client, dapp, amount, "wire-" + amount);
        var pid = "dapp-" + dapp;

        var all = await AuditAsync(client, $"entity={pid}");
        var events = all.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(["dapp.evt.registered", "dapp.evt.deposited", "dapp.evt.deposited", "dapp.evt.deposited"],
            events.Select(e => e.GetProperty("type").GetString()));
        Assert.All(events, e => Assert.Equal("operator:tester", e.GetProperty("actor").GetString()));
        Assert.Equal(new string('0', 64), events[0].GetProperty("prevHash").GetString());
        for (var i = 1; i < events.Length; i++)
            Assert.Equal(events[i - 1].GetProperty("hash").GetString(), events[i].GetProperty("prevHash").GetString());
        Assert.Equal("Audited", events[0].GetProperty("event").GetProperty("Name").GetString());
        Assert.Equal("prepaid deposit", events[1].GetProperty("reason").GetString());

        var deposits = await AuditAsync(client, $"entity={pid}&type=dapp.evt.dep&actor=operator:&limit=2");
        Assert.Equal(2, deposits.GetProperty("events").GetArrayLength());
        var rest = await AuditAsync(client, $"entity={pid}&type=dapp.evt.dep&limit=2&after={deposits.GetProperty("next").GetString()}");
        Assert.Equal([2L, 3L], deposits.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequenceNr").GetInt64()));
        Assert.Equal([4L], rest.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sequenceNr").GetInt64()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
        Assert.Equal(0, (await AuditAsync(client, $"entity={pid}&actor=system:")).GetProperty("events").GetArrayLength());
        var registeredAt = events[0].GetProperty("at").GetDateTimeOffset();
        var later = await AuditAsync(client, $"entity={pid}&from={Uri.EscapeDataString(events[1].GetProperty("at").GetString()!)}");
        Assert.Equal(3, later.GetProperty("events").GetArrayLength());
        var earlier = await AuditAsync(client, $"entity={pid}&to={Uri.EscapeDataString(registeredAt.AddTicks(1).ToString("O"))}");
        Assert.Equal(1, earlier.GetProperty("events").GetArrayLength());

        foreach (var bad in new[] { "limit=0", "limit=501", "after=-1", "from=yesterday", "from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z", "colour=red" })
        {
            using var refused = await client.SendAsync(HttpMethod.Get, "/admin/v1/audit?" + bad, null, bearer: client.OperatorToken);
            Assert.Equal("invalid_request", (await PaymasterClient.ExpectAsync(refused, HttpStatusCode.BadRequest)).GetProperty("code").GetString());
        }

        foreach (var path in new[] { "/admin/v1/audit", "/admin/v1/audit/verify" })
        {
            using var anonymous = await client.SendAsync(HttpMethod.Get, path, null);
            await PaymasterClient.ExpectAsync(anonymous, HttpStatusCode.Unauthorized);
        }

        // Every write above was timed: Persist call to handler.
        var metrics = await client.Http.GetStringAsync("/metrics");
        var count = metrics.Split('\n').Single(l => l.StartsWith("gpm_journal_write_seconds_count", StringComparison.Ordinal));
        Assert.True(double.Parse(count.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 4, count);
    }

    private static async Task<(string Pid, string ApiKey)> SponsoredTransactionAsync(PaymasterClient client)
    {
        var (dapp, apiKey) = await client.RegisterDappAsync("First", directCalls: [(31337, Target)]);
        await client.DepositAsync(dapp, "USDT", "50000000");
        using var quote = await client.QuoteAsync(apiKey, new { chainId = 31337, sender = "0x1111111111111111111111111111111111111111", to = Target,
            gasLimit = "60000", feeToken = "USDT", callType = "direct" });
        var quoteId = (await PaymasterClient.ExpectAsync(quote, HttpStatusCode.Created)).GetProperty("quoteId").GetString()!;
        using var execute = await client.ExecuteAsync(apiKey, quoteId, "audit-" + quoteId);
        await PaymasterClient.ExpectAsync(execute, HttpStatusCode.Accepted);
        await client.WaitForStatusAsync(apiKey, quoteId, "settled", TimeSpan.FromSeconds(30));
        return ("dapp-" + dapp, apiKey);
    }

    private static async Task DepositAsync(PaymasterClient client, string dapp, string amount, string reference)
    {
        using var response = await client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{dapp}/deposits", new { token = "USDT", amount, reference }, bearer: client.OperatorToken);
        await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static async Task<JsonElement> VerifyAsync(PaymasterClient client)
    {
        using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/audit/verify", null, bearer: client.OperatorToken);
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static async Task<JsonElement> AuditAsync(PaymasterClient client, string query)
    {
        using var response = await client.SendAsync(HttpMethod.Get, "/admin/v1/audit?" + query, null, bearer: client.OperatorToken);
        return await PaymasterClient.ExpectAsync(response, HttpStatusCode.OK);
    }

    private static (string, long, string) FirstBad(JsonElement answer)
    {
        Assert.False(answer.GetProperty("ok").GetBoolean(), answer.ToString());
        var bad = answer.GetProperty("firstBad");
        return (bad.GetProperty("persistenceId").GetString()!, bad.GetProperty("sequenceNr").GetInt64(), bad.GetProperty("code").GetString()!);
    }

    private sealed record Row(long SequenceNr, string Manifest);

    private static List<Row> Rows(string dataDirectory, string pid)
    {
        using var connection = Open(dataDirectory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sequence_number, manifest FROM journal WHERE persistence_id = $p ORDER BY sequence_number";
        command.Parameters.AddWithValue("$p", pid);
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read()) rows.Add(new Row(reader.GetInt64(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>Changes one byte of the row's stored JSON (the first letter of <paramref name="text"/>), as an editor of the database would.</summary>
    private static void EditByte(string dataDirectory, string pid, long sequenceNr, string text)
    {
        using var connection = Open(dataDirectory);
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT message FROM journal WHERE persistence_id = $p AND sequence_number = $s";
        read.Parameters.AddWithValue("$p", pid);
        read.Parameters.AddWithValue("$s", sequenceNr);
        var message = (byte[])read.ExecuteScalar()!;
        var at = message.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text));
        Assert.True(at > 0, $"{pid}#{sequenceNr} does not mention '{text}'");
        message[at] = (byte)'P';
        using var write = connection.CreateCommand();
        write.CommandText = "UPDATE journal SET message = $m WHERE persistence_id = $p AND sequence_number = $s";
        write.Parameters.AddWithValue("$m", message);
        write.Parameters.AddWithValue("$p", pid);
        write.Parameters.AddWithValue("$s", sequenceNr);
        Assert.Equal(1, write.ExecuteNonQuery());
    }

    private static void Execute(string dataDirectory, string sql)
    {
        using var connection = Open(dataDirectory);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        Assert.True(command.ExecuteNonQuery() > 0, sql);
    }

    private static SqliteConnection Open(string dataDirectory)
    {
        var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(dataDirectory, PersistenceHocon.JournalFile));
        connection.Open();
        return connection;
    }

    /// <summary>A copy of the whole data directory of a stopped node: journal, snapshots, sharding state, checkpoints and key.</summary>
    private string CopyOf(string source, string name)
    {
        var target = Path.Combine(DataDirectory + "-copies", name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    /// <summary>A node in this process on the test chain, with the test admin of its data directory.</summary>
    private sealed class AuditNode : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HttpClient _http;

        private AuditNode(WebApplication app)
        {
            _app = app;
            _http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        }

        private string _adminToken = "";

        public PaymasterClient Client => new(_http, _adminToken);

        public static async Task<AuditNode> StartAsync(string dataDirectory, Chain.Devnet.DevnetLauncher chains)
        {
            var args = TestNode.Arguments(dataDirectory, "http://127.0.0.1:0", TestNode.ChainsOf(chains));
            args.Add("--Logging:LogLevel:Default=Warning");
            var app = NodeApp.Build(args.ToArray());
            await app.StartAsync();
            var node = new AuditNode(app);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await node._http.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline) await Task.Delay(200);
            // A copy of a data directory holds the token of the admin its node created.
            node._adminToken = await PaymasterClient.FirstAdminAsync(node._http, dataDirectory);
            return node;
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

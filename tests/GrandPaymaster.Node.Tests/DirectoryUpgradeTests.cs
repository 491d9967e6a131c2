using System.Net;
using GrandPaymaster.Actors.Persistence;
using Microsoft.Data.Sqlite;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// A journal written before dApp events were tagged (no tag rows at all): after an upgrade the node still knows every dApp's
/// key, from each dApp's first event, and a later tagged change (a key rotation) wins over it.
/// </summary>
public sealed class DirectoryUpgradeTests : SingleChain
{
    [Fact]
    public async Task Dapps_registered_before_events_were_tagged_keep_their_keys_after_a_restart()
    {
        string apiKey, rotatedId, rotatedKey, oldRotatedKey;
        await using (var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)]))
        {
            await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            (_, apiKey) = await node.Client.RegisterDappAsync("Old");
            (rotatedId, oldRotatedKey) = await node.Client.RegisterDappAsync("Rotated");
        }

        // As an older version left it: no row in the tag table.
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection(PersistenceHocon.SqliteConnectionString(DataDirectory, PersistenceHocon.JournalFile)))
        {
            connection.Open();
            var tables = new List<string>();
            using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%tag%'";
                using var reader = list.ExecuteReader();
                while (reader.Read()) tables.Add(reader.GetString(0));
            }

            Assert.NotEmpty(tables);
            foreach (var table in tables)
            {
                using var delete = connection.CreateCommand();
                delete.CommandText = $"DELETE FROM \"{table}\"";
                delete.ExecuteNonQuery();
            }
        }

        SqliteConnection.ClearAllPools();
        await using (var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)]))
        {
            await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            await PaymasterClient.ExpectAsync(await node.Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: apiKey), HttpStatusCode.OK);
            using var rotate = await node.Client.SendAsync(HttpMethod.Post, $"/admin/v1/dapps/{rotatedId}/api-key", new { reason = "upgrade test" },
                bearer: node.Client.OperatorToken);
            rotatedKey = (await PaymasterClient.ExpectAsync(rotate, HttpStatusCode.OK)).GetProperty("apiKey").GetString()!;
        }

        // Once more from the journal alone: the untagged registration, then the tagged rotation after it.
        SqliteConnection.ClearAllPools();
        await using (var node = await TestNode.StartAsync(DataDirectory, [("devnet-a", 31337, Chains.Chains[0].RpcUrl)]))
        {
            await node.WaitForStatusAsync("/health/ready", HttpStatusCode.OK, TimeSpan.FromSeconds(60));
            await PaymasterClient.ExpectAsync(await node.Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: rotatedKey), HttpStatusCode.OK);
            await PaymasterClient.ExpectAsync(await node.Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: apiKey), HttpStatusCode.OK);
            using var revoked = await node.Client.SendAsync(HttpMethod.Get, "/v1/balances", null, apiKey: oldRotatedKey);
            Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        }
    }
}

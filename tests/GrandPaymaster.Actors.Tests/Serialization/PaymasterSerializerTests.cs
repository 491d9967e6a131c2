using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using GrandPaymaster.Actors.Persistence;
using GrandPaymaster.Actors.Serialization;
using GrandPaymaster.Domain.Common;
using Address = GrandPaymaster.Domain.Common.Address;
using GrandPaymaster.Domain.Pools;

namespace GrandPaymaster.Actors.Tests.Serialization;

public sealed class PaymasterSerializerTests : IAsyncLifetime
{
    private static readonly Meta SampleMeta = new(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero), "operator:alice", "sample", "corr-1");
    private static readonly ChainId Chain = new(31337);
    private static readonly Address Wallet = Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

    /// <summary>One sample per registered manifest; the coverage test below keeps this list complete.</summary>
    public static readonly TheoryData<object> Samples =
    [
        new PoolCommands.RegisterWorkerWallet(Chain, Wallet, SampleMeta),
        new PoolCommands.GetPoolState(Chain),
        new PoolReplies.WorkerWalletRegistration(Chain, Wallet, Added: true),
        new PoolEvents.WorkerWalletRegistered(Chain, Wallet, SampleMeta),
        new PoolState(Chain, PoolStatus.SafeMode, ImmutableList.Create(Wallet, Address.Parse("0x" + new string('a', 40)))),
    ];

    private readonly ActorSystem _system = ActorSystem.Create("serializer-tests",
        ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(PersistenceHocon.Load("akka.hocon")));

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_registered_message_round_trips_through_the_bound_serializer(object message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<PaymasterSerializer>(serializer);

        var manifest = Assert.IsType<PaymasterSerializer>(serializer).Manifest(message);
        var copy = ((SerializerWithStringManifest)serializer).FromBinary(serializer.ToBinary(message), manifest);

        Assert.Equal(message.GetType(), copy.GetType());
        Assert.Equal(message, copy);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Every_registered_message_passes_akkas_serialize_messages_check_between_actors(object message)
    {
        // With serialize-messages on, Akka serializes and deserializes every message it delivers, as if
        // it crossed a node boundary; a message that does not survive that fails here.
        using var kit = new Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
            akka.actor.provider = local
            akka.actor.serialize-messages = on
            """).WithFallback(PersistenceHocon.Load("akka.hocon")));
        var echo = kit.Sys.ActorOf(Props.Create(() => new EchoActor()));

        var answer = await echo.Ask<object>(message, TimeSpan.FromSeconds(10));

        Assert.Equal(message, answer);
        Assert.NotSame(message, answer);
    }

    [Fact]
    public void The_samples_cover_every_registered_manifest()
    {
        var sampled = ((IEnumerable<object[]>)Samples).Select(row => row[0].GetType()).ToHashSet();
        var missing = MessageManifests.ManifestByType.Keys.Where(t => !sampled.Contains(t)).Select(t => t.Name).ToArray();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_paymaster_message_type_has_a_manifest()
    {
        var messageTypes = typeof(PoolState).Assembly.GetTypes()
            .Where(t => typeof(IPaymasterMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false });
        Assert.All(messageTypes, t => Assert.True(MessageManifests.ManifestByType.ContainsKey(t), $"{t.FullName} has no manifest"));
    }

    [Fact]
    public void An_unknown_manifest_fails_loudly()
    {
        var serializer = new PaymasterSerializer((ExtendedActorSystem)_system);
        var error = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "no.such.manifest"));
        Assert.Contains("no.such.manifest", error.Message);
    }

    [Fact]
    public void A_type_without_a_manifest_is_refused_instead_of_written()
    {
        var serializer = new PaymasterSerializer((ExtendedActorSystem)_system);
        Assert.Throws<ArgumentException>(() => serializer.ToBinary(new UnregisteredMessage()));
    }

    [Fact]
    public void Quantities_beyond_double_precision_survive_as_exact_decimal_strings()
    {
        var max = System.Numerics.BigInteger.Pow(2, 256) - 1;
        var json = System.Text.Json.JsonSerializer.Serialize(max, PaymasterSerializer.Options);
        Assert.Equal($"\"{max}\"", json);
        Assert.Equal(max, System.Text.Json.JsonSerializer.Deserialize<System.Numerics.BigInteger>(json, PaymasterSerializer.Options));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.Terminate();

    private sealed record UnregisteredMessage : IPaymasterMessage;

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => ReceiveAny(message => Sender.Tell(message));
    }
}

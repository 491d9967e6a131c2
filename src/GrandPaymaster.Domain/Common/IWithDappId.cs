namespace GrandPaymaster.Domain.Common;

/// <summary>Messages addressed to one dApp entity; the shard extractor routes on this.</summary>
public interface IWithDappId
{
    DappId DappId { get; }
}

namespace GrandPaymaster.Domain.Common;

/// <summary>Messages addressed to the pool entity of one chain; the shard extractor routes on this.</summary>
public interface IWithChainId
{
    ChainId ChainId { get; }
}

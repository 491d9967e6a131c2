namespace GrandPaymaster.Domain.Common;

/// <summary>
/// Marker for every message that is persisted or crosses a node boundary. The project's own
/// serializer is bound to this interface, so a type without it can never reach the journal
/// through Akka's default serializer by accident.
/// </summary>
public interface IPaymasterMessage;

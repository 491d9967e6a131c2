namespace GrandPaymaster.LoadTest.Engine;

/// <summary>One target of the bench: what it is, whether it was met and the measured figure, printed as <c>[met]</c> or <c>[MISSED]</c>.</summary>
public sealed record Check(string Target, bool Met, string Figure)
{
    public override string ToString() => $"  [{(Met ? "met" : "MISSED")}] {Target}: {Figure}";
}

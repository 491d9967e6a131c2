namespace GrandPaymaster.Domain.Alerts;

/// <summary>A condition a source reports as bad right now (what its alert would say).</summary>
public sealed record AlertCondition(string Kind, string Subject, AlertSeverity Severity, string Summary, TimeSpan RaiseAfter = default);

/// <summary>A raise (the condition went bad, or bad again while its alert was clearing) or a resolve (healthy for the clear period).</summary>
public sealed record AlertTransition(bool Raise, AlertCondition Condition);

/// <summary>
/// Turns polled health into alert transitions, pure: a condition is raised once it has been bad for its
/// <see cref="AlertCondition.RaiseAfter"/>, and resolved once it has been healthy for <c>clearAfter</c>; going bad again
/// while clearing raises again (a repeat of the same alert), so a flapping source stays one alert with a count. Each
/// <see cref="Observe"/> names one family of conditions (say "rpc"); its conditions missing from the call are healthy.
/// Memory is bounded by what the polled sources can name (configured chains, endpoints, gas sources, SLOs).
/// </summary>
public sealed class AlertConditions(TimeSpan clearAfter)
{
    private readonly Dictionary<string, Tracked> _tracked = new(StringComparer.Ordinal);

    public IReadOnlyList<AlertTransition> Observe(string family, IEnumerable<AlertCondition> bad, DateTimeOffset now)
    {
        var transitions = new List<AlertTransition>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var condition in bad)
        {
            var key = $"{family}\u001f{Alert.KeyOf(condition.Kind, condition.Subject)}";
            if (!seen.Add(key)) continue;
            if (!_tracked.TryGetValue(key, out var tracked))
                _tracked[key] = tracked = new Tracked(family, condition, now);
            tracked.Condition = condition;
            if (tracked.Raised)
            {
                if (tracked.GoodSince is null) continue;
                tracked.GoodSince = null;
                transitions.Add(new AlertTransition(true, condition));
            }
            else if (now - tracked.BadSince >= condition.RaiseAfter)
            {
                tracked.Raised = true;
                transitions.Add(new AlertTransition(true, condition));
            }
        }

        foreach (var (key, tracked) in _tracked.Where(t => t.Value.Family == family && !seen.Contains(t.Key)).ToArray())
        {
            if (!tracked.Raised)
            {
                _tracked.Remove(key);
                continue;
            }

            tracked.GoodSince ??= now;
            if (now - tracked.GoodSince.Value < clearAfter) continue;
            _tracked.Remove(key);
            transitions.Add(new AlertTransition(false, tracked.Condition));
        }

        return transitions;
    }

    private sealed class Tracked(string family, AlertCondition condition, DateTimeOffset badSince)
    {
        public string Family { get; } = family;
        public AlertCondition Condition { get; set; } = condition;
        public DateTimeOffset BadSince { get; } = badSince;
        public bool Raised { get; set; }
        public DateTimeOffset? GoodSince { get; set; }
    }
}

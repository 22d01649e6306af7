namespace Casebook.Extract.Clinical;

/// <summary>ConText's contextual features of one concept mention (Chapman et al. 2007): negation, certainty,
/// temporality (historical, hypothetical) and experiencer.</summary>
public readonly record struct Assertion(bool Negated, bool Uncertain, bool Historical, bool Hypothetical, bool OtherExperiencer)
{
    public string Experiencer => OtherExperiencer ? "other" : "patient";
    /// <summary>Affirmed, certain, current and about the patient: what counts as the study's finding by default.</summary>
    public bool IsAffirmedCurrentPatient => !Negated && !Uncertain && !Historical && !Hypothetical && !OtherExperiencer;
}

/// <summary>The features a trigger sets or a termination term stops.</summary>
[Flags]
public enum AssertionFeatures
{
    None = 0,
    Negated = 1,
    Uncertain = 2,
    Historical = 4,
    Hypothetical = 8,
    Other = 16,
    All = Negated | Uncertain | Historical | Hypothetical | Other,
}

public enum TriggerDirection { Forward, Backward, Both }

using Casebook.Search;

namespace Casebook;

public sealed partial class CasebookDb
{
    /// <summary>The studies most like a study, an image or text, each with its outcomes, and a summary of outcomes over them.</summary>
    public SimilarResult Similar(SimilarQuery query) => SimilarCases.Run(this, query);
}

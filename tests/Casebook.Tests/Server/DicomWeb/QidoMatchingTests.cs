using Casebook.Server.DicomWeb;

namespace Casebook.Tests.Server.DicomWeb;

/// <summary>QIDO-RS matching rules (PS3.4 §C.2.2.2) as the server applies them to stored values.</summary>
public class QidoMatchingTests
{
    [Theory]
    [InlineData("CT", "CT", true)]
    [InlineData("CT", "ct", false)] // CS is case-sensitive
    [InlineData("C*", "CT", true)]
    [InlineData("?T", "CT", true)]
    [InlineData("?", "CT", false)]
    [InlineData("*", "", true)]
    [InlineData("CT,MR", "MR", true)]
    [InlineData("", "anything", true)] // universal matching
    public void Code_strings_match_exactly_by_wildcard_or_by_list(string query, string stored, bool expected) =>
        Assert.Equal(expected, QidoMatching.Matches("CS", query, stored, fuzzy: false));

    [Theory]
    [InlineData("20200101-20201231", "20200615", true)]
    [InlineData("20200101-20201231", "20210101", false)]
    [InlineData("-20200101", "20191231", true)]
    [InlineData("20200101-", "20191231", false)]
    [InlineData("20200615", "20200615", true)]
    [InlineData("20200101-20201231", "", false)]
    public void Dates_match_ranges(string query, string stored, bool expected) =>
        Assert.Equal(expected, QidoMatching.Matches("DA", query, stored, fuzzy: false));

    [Fact]
    public void Times_match_to_the_precision_of_the_query() =>
        Assert.True(QidoMatching.Matches("TM", "10-1030", "101500.123", fuzzy: false));

    [Fact]
    public void Uids_match_a_list_and_never_by_prefix()
    {
        Assert.True(QidoMatching.Matches("UI", "1.2.3,1.2.4", "1.2.4", fuzzy: false));
        Assert.True(QidoMatching.Matches("UI", "1.2.3\\1.2.4", "1.2.3", fuzzy: false));
        Assert.False(QidoMatching.Matches("UI", "1.2", "1.2.3", fuzzy: false));
    }

    [Theory]
    [InlineData("Doe^John", false, true)]
    [InlineData("DOE^JOHN", false, true)]
    [InlineData("Doe", false, false)]
    [InlineData("Do*", false, true)]
    [InlineData("doe", true, true)]
    [InlineData("joh do", true, true)]
    [InlineData("Jhon^Doe", true, true)]   // transposition
    [InlineData("Dae John", true, false)]  // "Dae" is three letters: prefix only
    [InlineData("Smith", true, false)]
    [InlineData("Müller", true, true)]     // accents ignored (stored: Muller^Hans)
    public void Person_names_match_case_insensitively_and_fuzzily_when_asked(string query, bool fuzzy, bool expected)
    {
        var stored = query == "Müller" ? "Muller^Hans" : "Doe^John";
        Assert.Equal(expected, QidoMatching.Matches("PN", query, stored, fuzzy));
    }

    [Fact]
    public void Multi_valued_attributes_match_when_any_value_does() =>
        Assert.True(QidoMatching.Matches("CS", "MR", "CT\\MR", fuzzy: false));
}

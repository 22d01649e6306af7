namespace Casebook.Tests.Extract.Clinical;

public class CodeTableTests
{
    [Fact]
    public void Importing_the_cms_table_gives_displays_hierarchy_and_lookup()
    {
        using var tmp = new TempDirectory();
        using var db = tmp.OpenDb();
        Assert.Equal(0, db.CodeCount());
        var result = db.ImportCodes(SharedData.Require("codes/icd10cm/categories.csv"));
        Assert.Empty(result.Errors);
        Assert.Equal(24628, result.Imported);
        var e119 = db.LookupCode("e119")!;
        Assert.Equal("E11.9", e119.Code);
        Assert.Equal("Type 2 diabetes mellitus without complications", e119.Display);
        Assert.Equal(["E11"], e119.Ancestors.Select(a => a.Code));
        Assert.Contains(db.CodesUnder("E11"), c => c.Code == "E11.65");
        Assert.DoesNotContain(db.CodesUnder("E11"), c => c.Code.StartsWith("E10"));
        // A leaf the 2018 table lacks takes its nearest ancestor's display.
        Assert.StartsWith("Pneumonia, unspecified organism (via J18)", db.LookupCode("ICD10:J18.9")!.Display);
        Assert.Null(db.LookupCode("not a code"));
        // Re-import is idempotent.
        db.ImportCodes(SharedData.Require("codes/icd10cm/categories.csv"));
        Assert.Equal(24628, db.CodeCount());
    }

    [Fact]
    public void Bad_rows_are_reported_with_their_line_and_the_rest_imported()
    {
        using var tmp = new TempDirectory();
        File.WriteAllText(tmp["codes.txt"], "A000    Cholera due to Vibrio cholerae\nNOTACODE    x\nJ90      Pleural effusion, not elsewhere classified\nE119\n");
        using var db = tmp.OpenDb();
        var result = db.ImportCodes(tmp["codes.txt"]);
        Assert.Equal(2, result.Imported);
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.Contains("codes.txt:2") && e.Contains("NOTACODE"));
        Assert.Contains(result.Errors, e => e.Contains("codes.txt:4"));
        Assert.Equal("Pleural effusion, not elsewhere classified", db.LookupCode("J90")!.Display);
        Assert.Throws<FileNotFoundException>(() => db.ImportCodes(tmp["missing.csv"]));
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Sylvan.Data.Csv;

namespace Casebook.Extract.Clinical.Phi.Evaluation;

/// <summary>A labelled identifier in an evaluation note: [Start, End) and its type.</summary>
public sealed record GoldSpan(int Start, int End, string Type);

/// <summary>One evaluation note: real clinical text with inserted, labelled identifiers. Source names the base text (file#record).</summary>
public sealed record PhiEvalNote(string Source, string Text, IReadOnlyList<GoldSpan> Gold, IReadOnlyList<BaseSegment> BaseSegments)
{
    /// <summary>The offset in the base text of note offset <paramref name="at"/>, or -1 when it lies in inserted text.</summary>
    public int BaseOffset(int at)
    {
        foreach (var s in BaseSegments)
            if (at >= s.NoteStart && at < s.NoteStart + s.Length) return s.BaseStart + at - s.NoteStart;
        return -1;
    }
}

/// <summary>A stretch of a note copied from its base text: note offset, base-text offset, length.</summary>
public sealed record BaseSegment(int NoteStart, int BaseStart, int Length);

/// <summary>
/// Builds PHI evaluation notes from real text in ../shared/data/text (MTSamples transcriptions, PriMock57 consultation
/// notes, IU X-ray reports): a header, sentences with identifiers inserted between the real sentences, and a signature,
/// every inserted identifier labelled with its offsets. Names come from the Synthea FHIR bundles (digit suffixes
/// stripped) and a hand-written list of names from many languages; with <c>excludeDetectorLexicon</c> every name the
/// detector's own lexicon (Bogus) knows is left out, so name recall is not circular. Addresses and cities come from
/// Synthea, facilities from Synthea's organisations (title-cased) and a hand-written list. Deterministic per seed.
/// </summary>
public sealed class PhiEvalCorpus
{
    static readonly string[] HandFirst =
    [
        "Oluwaseun", "Chidi", "Tunde", "Ngozi", "Adaeze", "Siobhan", "Niamh", "Aoife", "Saoirse", "Priya", "Raghav", "Ananya", "Vikram",
        "Deepika", "Xiaoming", "Wei", "Mei", "Haruto", "Sakura", "Minh", "Thanh", "Linh", "Fatima", "Yusuf", "Aisha", "Omar", "Layla",
        "Mehmet", "Elif", "Zeynep", "Bogdan", "Katarzyna", "Wojciech", "Agnieszka", "Dmitri", "Svetlana", "Olena", "Taras", "Ingrid", "Sven",
        "Astrid", "Mateo", "Valentina", "Santiago", "Ximena", "Joaquin", "Guadalupe", "Kwame", "Akosua", "Kofi", "Tendai", "Thandiwe",
        "Sipho", "Zanele", "Aroha", "Leilani", "Sunita", "Arjun", "Kavya", "Ji-woo", "Seo-yeon", "Amadou", "Fatou", "Moussa", "Aminata",
        "Tariq", "Noor", "Hamza", "Zainab", "Eamon", "Padraig", "Ciaran", "Gwyneth", "Rhys", "Dafydd", "Cerys", "Anneliese", "Florin",
        "Radu", "Ioana", "Teodora", "Goran", "Milica", "Nikos", "Eleni", "Giorgos", "Pietro", "Chiara", "Rosalind", "Thaddeus", "Ebenezer",
    ];

    static readonly string[] HandLast =
    [
        "Okafor", "Adeyemi", "Okonkwo", "Nwosu", "Balogun", "O'Sullivan", "MacAlister", "Fitzgerald-Byrne", "Raghunathan", "Venkataraman",
        "Chakraborty", "Iyer", "Banerjee", "Zhang", "Xu", "Tanaka", "Watanabe", "Nakamura", "Tran", "Pham", "Nguyen", "Haddad", "Al-Masri",
        "Yilmaz", "Demir", "Kowalczyk", "Wisniewski", "Nowakowski", "Ivanova", "Petrenko", "Lindqvist", "Bergstrom", "Gutierrez",
        "Castellanos", "Villanueva", "Quispe", "Mensah", "Boateng", "Asante", "Moyo", "Dlamini", "Ngata", "Kahananui", "Patel", "Sharma",
        "Diallo", "Traore", "Keita", "Rahman", "Hossain", "Siddiqui", "Murtagh", "Gallagher", "Llewellyn", "Pryce", "Vaughan-Jones",
        "Van Houten", "O'Donnell", "McAllister", "Szymanski", "Popescu", "Dragomir", "Papadopoulos", "Karagiannis", "Esposito", "Ricci",
        "Abernathy-Cole", "Thistlewood", "Ashworth", "Pennington", "Whitlock", "Fairbanks", "Kowalski", "Brennan", "Delacroix",
    ];

    static readonly string[] HandFacilities =
    [
        "Mercy Hospital", "St. Luke's Medical Center", "Lakeside Family Clinic", "Riverbend Nursing Home", "Cedar Ridge Rehabilitation Center",
        "Harborview Medical Center", "Saint Anne's Hospital", "Northgate Urgent Care", "Maple Grove Health Center", "Bayside Surgery Center",
        "Whitmore Memorial Hospital", "Greenfield Clinic", "Holy Cross Hospital", "Pinecrest Hospice", "Summit Imaging",
    ];

    static readonly string[] HandStreets =
    [
        "42 Elm Street", "1187 Beacon St.", "9 Winthrop Road", "350 Commonwealth Avenue, Apt 4B", "77 Harbor View Drive", "12 Old Mill Lane",
        "2201 N. Lakeshore Blvd", "5 Chestnut Hill Court", "640 Route Nine Highway", "18 Pleasant Street, Unit 2", "P.O. Box 4471",
    ];

    static readonly string[] HandCities = ["Framingham", "Worcester", "Quincy", "Lowell", "Chicopee", "Brookline", "Somerville", "New Bedford", "Fall River", "Pittsfield"];

    static readonly string[] States = ["MA", "Massachusetts", "NH", "RI", "New York", "CT", "Vermont"];

    readonly Random _rng;
    readonly List<string> _first = new(), _last = new(), _streets = new(), _cities = new(), _facilities = new(), _zips = new();
    readonly List<string> _base = new(), _baseSource = new();

    public int NameCount => _first.Count + _last.Count;
    public IReadOnlyList<string> FirstNames => _first;
    public IReadOnlyList<string> LastNames => _last;

    /// <summary>Reads the name, address and base-text sources under <paramref name="sharedData"/> (../shared/data).</summary>
    public PhiEvalCorpus(string sharedData, int seed = 1, bool excludeDetectorLexicon = true)
    {
        _rng = new Random(seed);
        var first = new HashSet<string>(HandFirst);
        var last = new HashSet<string>(HandLast);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(sharedData, "fhir", "synthea"), "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (var entry in doc.RootElement.GetProperty("entry").EnumerateArray())
            {
                var r = entry.GetProperty("resource");
                var type = r.GetProperty("resourceType").GetString();
                if (type is "Patient" or "Practitioner" && r.TryGetProperty("name", out var names))
                    foreach (var n in names.EnumerateArray())
                    {
                        if (n.TryGetProperty("family", out var f)) last.Add(StripDigits(f.GetString()!));
                        if (n.TryGetProperty("given", out var g)) foreach (var x in g.EnumerateArray()) first.Add(StripDigits(x.GetString()!));
                    }
                if (type is "Patient" or "Organization" && r.TryGetProperty("address", out var addresses))
                    foreach (var a in addresses.EnumerateArray())
                    {
                        if (a.TryGetProperty("line", out var lines)) foreach (var l in lines.EnumerateArray()) _streets.Add(TitleCase(l.GetString()!));
                        if (a.TryGetProperty("city", out var c)) _cities.Add(TitleCase(c.GetString()!));
                        if (a.TryGetProperty("postalCode", out var z) && z.GetString() is { Length: >= 5 } zip) _zips.Add(zip[..5]);
                    }
                if (type == "Organization" && r.TryGetProperty("name", out var on) && on.GetString() is { } org && org.Length > 3)
                    _facilities.Add(TitleCase(org.TrimEnd(' ', '-', ',')).Replace(", Inc", ""));
            }
        }
        _streets.AddRange(HandStreets);
        _cities.AddRange(HandCities);
        _facilities.AddRange(HandFacilities);
        foreach (var n in first) if (n.Length > 1 && (!excludeDetectorLexicon || !InLexicon(n))) _first.Add(n);
        foreach (var n in last) if (n.Length > 1 && (!excludeDetectorLexicon || !InLexicon(n))) _last.Add(n);
        _first.Sort(StringComparer.Ordinal);
        _last.Sort(StringComparer.Ordinal);
        _streets.Sort(StringComparer.Ordinal);
        _cities.Sort(StringComparer.Ordinal);
        _facilities.Sort(StringComparer.Ordinal);
        LoadBaseTexts(sharedData);
    }

    static bool InLexicon(string name) =>
        name.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries).Any(w => PhiLexicon.FirstNameSet.Contains(w.ToLowerInvariant()) || PhiLexicon.LastNameSet.Contains(w.ToLowerInvariant()));

    static string StripDigits(string s) => new string(s.Where(c => !char.IsDigit(c)).ToArray()).Trim();

    static string TitleCase(string s) =>
        s.Any(char.IsLower) ? s : string.Join(' ', s.ToLowerInvariant().Split(' ').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));

    void LoadBaseTexts(string sharedData)
    {
        var text = Path.Combine(sharedData, "text");
        using (var csv = CsvDataReader.Create(Path.Combine(text, "mtsamples", "mtsamples.csv"), new CsvDataReaderOptions { HasHeaders = false }))
            while (csv.Read())
                if (csv.FieldCount > 4 && csv.GetString(4).Trim() is { Length: > 200 } t)
                {
                    _base.Add(t.Replace(".,", ".\n").Replace(":,", ":\n"));
                    _baseSource.Add("mtsamples.csv#" + csv.GetString(0).Trim());
                }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(text, "primock57", "notes"), "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            if (doc.RootElement.TryGetProperty("note", out var n) && n.GetString() is { Length: > 50 } note)
            {
                _base.Add(note);
                _baseSource.Add("primock57/" + Path.GetFileName(file));
            }
        }
        using (var csv = CsvDataReader.Create(Path.Combine(text, "iu-xray", "indiana_reports.csv"), new CsvDataReaderOptions { HasHeaders = true }))
        {
            var taken = 0;
            while (csv.Read() && taken < 400)
            {
                var parts = new[] { ("INDICATION", csv.GetString(4)), ("COMPARISON", csv.GetString(5)), ("FINDINGS", csv.GetString(6)), ("IMPRESSION", csv.GetString(7)) }
                    .Where(p => p.Item2.Trim().Length > 0).Select(p => p.Item1 + ": " + p.Item2.Trim());
                var report = string.Join("\n\n", parts);
                if (report.Length < 120) continue;
                _base.Add(report);
                _baseSource.Add("indiana_reports.csv#" + csv.GetString(0));
                taken++;
            }
        }
    }

    public int BaseCount => _base.Count;

    /// <summary>False: notes without the header block, so a name in a sentence cannot be found through its header mention (a harder test).</summary>
    public bool Headers { get; init; } = true;

    /// <summary>
    /// <paramref name="count"/> notes spread over the three sources in turn (MTSamples, PriMock57, IU X-ray), each base
    /// text used at most once until all are used.
    /// </summary>
    public List<PhiEvalNote> Build(int count)
    {
        var bySource = new[] { "mtsamples", "primock57", "indiana" }
            .Select(p => Enumerable.Range(0, _base.Count).Where(i => _baseSource[i].StartsWith(p, StringComparison.Ordinal)).ToList()).ToArray();
        var notes = new List<PhiEvalNote>(count);
        var next = new int[bySource.Length];
        for (var n = 0; notes.Count < count; n++)
        {
            var list = bySource[n % bySource.Length];
            var i = list[next[n % bySource.Length]++ % list.Count];
            notes.Add(MakeNote(_baseSource[i], _base[i]));
        }
        return notes;
    }

    /// <summary>The base text alone (no inserted identifiers) of every note <see cref="Build"/> would make.</summary>
    public IEnumerable<(string Source, string Text)> BaseTexts() => _baseSource.Zip(_base);

    sealed class NoteBuilder(Random rng)
    {
        public readonly StringBuilder Text = new();
        public readonly List<GoldSpan> Gold = new();
        public void Add(string s) => Text.Append(s);
        public void Add(string s, string type) { var start = Text.Length; Text.Append(s); Gold.Add(new GoldSpan(start, Text.Length, type)); }
        public Random Rng => rng;
    }

    T Pick<T>(IReadOnlyList<T> list) => list[_rng.Next(list.Count)];

    PhiEvalNote MakeNote(string source, string baseText)
    {
        var b = new NoteBuilder(_rng);
        var patient = (First: Pick(_first), Last: Pick(_last));
        var relative = (First: Pick(_first), Last: _rng.Next(3) == 0 ? Pick(_last) : patient.Last);
        var doctor = (First: Pick(_first), Last: Pick(_last));
        var female = _rng.Next(2) == 0;
        var ctx = new Ctx(this, b, patient, relative, doctor, female);

        if (Headers)
        {
            Header(ctx);
            b.Add("\n\n");
        }
        var segments = new List<BaseSegment>();
        var baseAt = 0;
        // Real sentences with identifiers inserted after some of them.
        var sentences = SplitSentences(baseText);
        var inserts = 2 + _rng.Next(4);
        var positions = new SortedSet<int>();
        while (positions.Count < Math.Min(inserts, sentences.Count)) positions.Add(_rng.Next(sentences.Count));
        for (var i = 0; i < sentences.Count; i++)
        {
            segments.Add(new BaseSegment(b.Text.Length, baseAt, sentences[i].Length));
            baseAt += sentences[i].Length;
            b.Add(sentences[i]);
            if (positions.Contains(i))
            {
                b.Add(sentences[i].EndsWith('\n') ? "" : " ");
                Sentence(ctx);
                b.Add(" ");
            }
        }
        b.Add("\n\n");
        Signature(ctx);
        return new PhiEvalNote(source, b.Text.ToString(), b.Gold, segments);
    }

    static List<string> SplitSentences(string text)
    {
        var list = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var end = text[i] == '\n' || (text[i] == '.' && i + 1 < text.Length && text[i + 1] == ' ' && i > 2 && char.IsLower(text[i - 1]) && char.IsLower(text[i - 2]) && char.IsLower(text[i - 3]));
            if (!end) continue;
            list.Add(text[start..(i + 1)]);
            start = i + 1;
        }
        if (start < text.Length) list.Add(text[start..]);
        return list;
    }

    sealed record Ctx(PhiEvalCorpus C, NoteBuilder B, (string First, string Last) Patient, (string First, string Last) Relative, (string First, string Last) Doctor, bool Female)
    {
        public string Title => Female ? (C._rng.Next(2) == 0 ? "Ms." : "Mrs.") : "Mr.";
        public string Pronoun => Female ? "her" : "his";
    }

    // ---- identifier values -------------------------------------------------------------------------------------

    static readonly string[] MonthsLong = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[..12];
    static readonly string[] MonthsShort = CultureInfo.InvariantCulture.DateTimeFormat.AbbreviatedMonthNames[..12];

    string Date(bool withYear = true)
    {
        var d = new DateTime(1935, 1, 1).AddDays(_rng.Next(33000));
        var formats = withYear
            ? new[] { "MM/dd/yyyy", "M/d/yyyy", "MM/dd/yy", "yyyy-MM-dd", "dd-MMM-yyyy", "d MMMM yyyy", "MMMM d, yyyy", "MMM d, yyyy", "MMMM d{0}, yyyy", "M-d-yyyy", "dd.MM.yyyy", "MMMM yyyy", "d{0} MMMM yyyy", "MMM. d, yyyy" }
            : new[] { "MMMM d", "MMMM d{0}", "M/d", "MMM d" };
        var f = formats[_rng.Next(formats.Length)];
        var s = d.ToString(f.Replace("{0}", "'" + Ordinal(d.Day) + "'"), CultureInfo.InvariantCulture);
        if (f.StartsWith("dd-MMM") && _rng.Next(2) == 0) s = s.ToUpperInvariant();
        return s;
    }

    static string Ordinal(int d) => (d % 100) is 11 or 12 or 13 ? "th" : (d % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" };

    string Digits(int n) { var sb = new StringBuilder(); for (var i = 0; i < n; i++) sb.Append((char)('0' + _rng.Next(10))); return sb.ToString(); }
    string Letters(int n) { var sb = new StringBuilder(); for (var i = 0; i < n; i++) sb.Append((char)('A' + _rng.Next(26))); return sb.ToString(); }

    string Phone() => _rng.Next(5) switch
    {
        0 => $"({Digits(3)}) {Digits(3)}-{Digits(4)}",
        1 => $"{Digits(3)}-{Digits(3)}-{Digits(4)}",
        2 => $"{Digits(3)}.{Digits(3)}.{Digits(4)}",
        3 => $"+1 {Digits(3)} {Digits(3)} {Digits(4)}",
        _ => $"07{Digits(3)} {Digits(6)}",
    };

    string Mrn() => _rng.Next(3) switch { 0 => Digits(7), 1 => Digits(8), _ => Letters(2) + Digits(6) };
    string Plan() => _rng.Next(2) == 0 ? $"{Letters(3)}{Digits(9)}" : $"{Digits(1)}{Letters(2)}{Digits(1)}-{Letters(2)}{Digits(1)}-{Letters(2)}{Digits(2)}";
    string Account() => _rng.Next(2) == 0 ? Digits(9) : $"{Digits(4)}-{Digits(5)}";
    string License() => _rng.Next(2) == 0 ? $"{Letters(2)}{Digits(7)}" : $"S{Digits(8)}";
    // ISO 3779 / 49 CFR 565: 17 characters without I, O, Q; in North America the last five are digits.
    string Vin() { const string chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"; var sb = new StringBuilder(); for (var i = 0; i < 12; i++) sb.Append(chars[_rng.Next(chars.Length)]); var v = sb + Digits(5); return v.Count(char.IsLetter) < 3 ? "1HG" + v[3..] : v; }
    string Plate() => $"{Digits(1)}{Letters(3)}{Digits(3)}";
    string Serial() => _rng.Next(2) == 0 ? $"{Letters(3)}{Digits(7)}" : $"{Digits(4)}-{Letters(2)}-{Digits(5)}";
    string Ssn() => $"{Digits(3)}-{Digits(2)}-{Digits(4)}";
    string Email((string First, string Last) p) => $"{p.First.ToLowerInvariant()}.{p.Last.ToLowerInvariant().Replace("'", "").Replace(" ", "")}{_rng.Next(100)}@{Pick(["gmail.com", "yahoo.com", "outlook.com", "comcast.net"])}";
    string Url() => Pick(["https://", "http://", "www."]) + Pick(["mychart", "portal", "records"]) + "." + Pick(["mercyhealth", "lakesideclinic", "bayview-med"]) + ".org/" + Letters(2).ToLowerInvariant() + Digits(4);
    string Ip() => $"{_rng.Next(1, 224)}.{_rng.Next(256)}.{_rng.Next(256)}.{_rng.Next(1, 255)}";
    int Age90() => 90 + _rng.Next(15);

    // ---- templates -------------------------------------------------------------------------------------------

    void Header(Ctx x)
    {
        var b = x.B; var p = x.Patient;
        switch (_rng.Next(6))
        {
            case 0:
                b.Add("Patient: "); b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add("    MRN: "); b.Add(Mrn(), PhiType.Mrn); b.Add("    DOB: "); b.Add(Date(), PhiType.Date);
                break;
            case 1:
                b.Add("PATIENT NAME: "); b.Add($"{p.Last.ToUpperInvariant()}, {p.First.ToUpperInvariant()}", PhiType.Name); b.Add("\nMEDICAL RECORD #: "); b.Add(Mrn(), PhiType.Mrn);
                b.Add("\nDATE OF SERVICE: "); b.Add(Date(), PhiType.Date); b.Add("\nACCOUNT #: "); b.Add(Account(), PhiType.Account);
                break;
            case 2:
                b.Add("Name: "); b.Add($"{p.Last}, {p.First}", PhiType.Name); b.Add("\nDOB: "); b.Add(Date(), PhiType.Date); b.Add("   Age: "); var a = Age90(); b.Add(a.ToString(), PhiType.Age);
                b.Add("\nAddress: "); b.Add(Pick(_streets), PhiType.Address); b.Add(", "); b.Add(Pick(_cities), PhiType.City); b.Add(", " + Pick(States) + " "); b.Add(Pick(_zips), PhiType.Zip);
                b.Add("\nPhone: "); b.Add(Phone(), PhiType.Phone);
                break;
            case 3:
                b.Add("Pt: "); b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add(" | Hospital #: "); b.Add(Mrn(), PhiType.Mrn); b.Add(" | Admitted: "); b.Add(Date(), PhiType.Date);
                b.Add(" | Attending: Dr. "); b.Add(x.Doctor.Last, PhiType.Name);
                break;
            case 4:
                b.Add(Pick(_facilities), PhiType.Facility); b.Add("\nPatient Name: "); b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add("\nMR#: "); b.Add(Mrn(), PhiType.Mrn);
                b.Add("\nInsurance: Member ID "); b.Add(Plan(), PhiType.HealthPlan); b.Add("\nReferring physician: "); b.Add($"{x.Doctor.First} {x.Doctor.Last}", PhiType.Name); b.Add(", MD");
                break;
            default:
                b.Add("Date: "); b.Add(Date(), PhiType.Date); b.Add("\nRE: "); b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add(" (DOB "); b.Add(Date(), PhiType.Date); b.Add(")\nDear Dr. ");
                b.Add(x.Doctor.Last, PhiType.Name); b.Add(",");
                break;
        }
    }

    void Sentence(Ctx x)
    {
        var b = x.B; var p = x.Patient; var r = x.Relative; var d = x.Doctor;
        var relation = x.Female ? Pick(["husband", "daughter", "son", "sister", "partner"]) : Pick(["wife", "daughter", "son", "brother", "partner"]);
        switch (_rng.Next(27))
        {
            // No cue at all: only the name's other mentions in the note (or the lexicon) can find these.
            case 24: b.Add("Will call "); b.Add(p.First, PhiType.Name); b.Add(" with the results next week."); break;
            case 25: b.Add(p.Last, PhiType.Name); b.Add("'s wound is healing well and the family is pleased."); break;
            case 26: b.Add("Plan reviewed with "); b.Add($"{r.First} {r.Last}", PhiType.Name); b.Add(", who agrees."); break;
            case 0: b.Add(x.Title + " "); b.Add(p.Last, PhiType.Name); b.Add(" was seen in clinic on "); b.Add(Date(), PhiType.Date); b.Add("."); break;
            case 1: b.Add($"{char.ToUpperInvariant(x.Pronoun[0])}{x.Pronoun[1..]} {relation}, "); b.Add($"{r.First} {r.Last}", PhiType.Name); b.Add(", can be reached at "); b.Add(Phone(), PhiType.Phone); b.Add("."); break;
            case 2: b.Add("The patient was seen by Dr. "); b.Add(d.Last, PhiType.Name); b.Add(" at "); b.Add(Pick(_facilities), PhiType.Facility); b.Add(" on "); b.Add(Date(), PhiType.Date); b.Add("."); break;
            case 3: b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add($" is a {18 + _rng.Next(70)}-year-old {(x.Female ? "woman" : "man")} who returns for follow-up."); break;
            case 4: b.Add("Lives at "); b.Add(Pick(_streets), PhiType.Address); b.Add(", "); b.Add(Pick(_cities), PhiType.City); b.Add(", " + Pick(States) + " "); b.Add(Pick(_zips), PhiType.Zip); b.Add("."); break;
            case 5: b.Add("Results were e-mailed to "); b.Add(Email(p), PhiType.Email); b.Add(" as requested."); break;
            case 6: b.Add("Records were requested from "); b.Add(Pick(_facilities), PhiType.Facility); b.Add(", fax "); b.Add(Phone(), PhiType.Fax); b.Add("."); break;
            case 7: b.Add("Insurance policy # "); b.Add(Plan(), PhiType.HealthPlan); b.Add(" was verified."); break;
            case 8: b.Add("Follow up with "); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(", NP, in 2 weeks."); break;
            case 9: b.Add("Pacemaker serial number "); b.Add(Serial(), PhiType.Device); b.Add(" was interrogated."); break;
            case 10: b.Add("Driver's license "); b.Add(License(), PhiType.License); b.Add("; vehicle plate "); b.Add(Plate(), PhiType.Vehicle); b.Add("."); break;
            case 11: b.Add("Patient portal "); b.Add(Url(), PhiType.Url); b.Add(" (last login from "); b.Add(Ip(), PhiType.Ip); b.Add(")."); break;
            case 12: b.Add("SSN: "); b.Add(Ssn(), PhiType.Ssn); b.Add("."); break;
            case 13: b.Add($"{char.ToUpperInvariant(x.Pronoun[0])}{x.Pronoun[1..]} mother, who is "); b.Add(Age90().ToString(), PhiType.Age); b.Add(" years old, has dementia."); break;
            case 14: b.Add("Previous imaging dated "); b.Add(Date(), PhiType.Date); b.Add(" was reviewed; blood pressure 128/76 in 2019."); break;
            case 15: b.Add(x.Title + " "); b.Add(p.Last, PhiType.Name); b.Add(" reports that the symptoms began on "); b.Add(Date(withYear: false), PhiType.Date); b.Add("."); break;
            case 16: b.Add("Discussed with " + x.Pronoun + " " + relation + " "); b.Add($"{r.First}", PhiType.Name); b.Add(" at the bedside."); break;
            case 17: b.Add("Account number "); b.Add(Account(), PhiType.Account); b.Add("; VIN "); b.Add(Vin(), PhiType.Vehicle); b.Add(" (accident report)."); break;
            case 18: b.Add($"{p.First}", PhiType.Name); b.Add(" presents with worsening symptoms since "); b.Add(Date(), PhiType.Date); b.Add("."); break;
            case 19: b.Add("Case discussed with Dr. "); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(" of cardiology, pager "); b.Add(Phone(), PhiType.Phone); b.Add("."); break;
            case 20: b.Add("The patient, a "); b.Add(Age90().ToString(), PhiType.Age); b.Add("-year-old resident of "); b.Add(Pick(_cities), PhiType.City); b.Add(", was admitted on "); b.Add(Date(), PhiType.Date); b.Add("."); break;
            case 21: b.Add("Patient ID "); b.Add(Mrn(), PhiType.Mrn); b.Add(" confirmed with two identifiers."); break;
            case 22: b.Add($"{p.First} {p.Last}", PhiType.Name); b.Add(" (" + relation + ": "); b.Add($"{r.First} {r.Last}", PhiType.Name); b.Add(") were counselled together."); break;
            default: b.Add("DEA # "); b.Add(License(), PhiType.License); b.Add(" on the prescription from Dr. "); b.Add(d.Last, PhiType.Name); b.Add("."); break;
        }
    }

    void Signature(Ctx x)
    {
        var b = x.B; var d = x.Doctor;
        switch (_rng.Next(5))
        {
            case 0: b.Add("Electronically signed by: "); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(", MD "); b.Add(Date(), PhiType.Date); b.Add(" 14:32"); break;
            case 1: b.Add("Dictated by: "); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(", M.D.\nTranscribed: "); b.Add(Date(), PhiType.Date); break;
            case 2: b.Add("________________________\n"); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(", MD\ncc: Dr. "); b.Add($"{x.Relative.First} {x.Doctor.Last}", PhiType.Name); break;
            case 3: b.Add("Thank you for this referral.\n\nSincerely,\n\n"); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(", MD\n"); b.Add(Pick(_facilities), PhiType.Facility); b.Add(" | Tel "); b.Add(Phone(), PhiType.Phone); break;
            default: b.Add("Reviewed and signed by Dr. "); b.Add($"{d.First} {d.Last}", PhiType.Name); b.Add(" on "); b.Add(Date(), PhiType.Date); b.Add("."); break;
        }
    }
}

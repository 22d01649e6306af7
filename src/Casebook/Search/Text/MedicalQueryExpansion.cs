namespace Casebook.Search.Text;

/// <summary>
/// Clinical abbreviation and synonym expansion from a built-in table.
/// <list type="bullet">
/// <item>Abbreviations expand to their long forms and long forms to their abbreviation ("SOB" ↔ "shortness of breath").</item>
/// <item>Synonym groups expand to every other member ("cardiomegaly" ↔ "enlarged heart").</item>
/// <item>Ambiguous abbreviations ("PE": pulmonary embolism, pleural effusion, physical exam) use cue words elsewhere
///   in the query ("CT", "clot" → embolism; "x-ray", "fluid" → effusion); with no cue every sense is added at a
///   lower weight rather than guessing.</item>
/// <item>Abbreviations that are also English words ("AS", "MS", "CA") expand only when written in capitals.</item>
/// </list>
/// Matching is on Porter stems, so "effusions" and "enlarged hearts" match too; the longest phrase at a position wins.
/// </summary>
public sealed class MedicalQueryExpansion : QueryExpansion
{
    public const float AbbreviationWeight = 0.7f;
    public const float SynonymWeight = 0.6f;
    public const float AmbiguousWeight = 0.3f;
    const int MaxPhraseTokens = 6;

    // Lazy: static tables below must be initialised before the first instance is built.
    static readonly Lazy<MedicalQueryExpansion> DefaultInstance = new(() => new MedicalQueryExpansion());
    /// <summary>The shared instance over the built-in table (immutable, thread-safe to use).</summary>
    public static MedicalQueryExpansion Default => DefaultInstance.Value;

    sealed record Sense(string[] Tokens, string[] Cues);
    sealed record Entry(string Source, Sense[] Senses, bool Ambiguous, bool RequiresCapitals, float Weight);

    // (abbreviation, long forms; ambiguous ones list cue words per sense after '|', separated by ',')
    // Shared with Extract/Clinical (ClinicalAbbreviations), so text analysis and query expansion read one table.
    internal static readonly (string Abbreviation, string[] Senses)[] Abbreviations =
    [
        ("cxr", ["chest x-ray", "chest radiograph"]), ("ct", ["computed tomography"]), ("cta", ["ct angiography"]),
        ("mri", ["magnetic resonance imaging"]), ("us", ["ultrasound"]), ("xr", ["x-ray", "radiograph"]),
        ("mi", ["myocardial infarction", "heart attack"]), ("stemi", ["st elevation myocardial infarction"]),
        ("nstemi", ["non st elevation myocardial infarction"]), ("acs", ["acute coronary syndrome"]),
        ("cad", ["coronary artery disease"]), ("cabg", ["coronary artery bypass graft"]), ("pci", ["percutaneous coronary intervention"]),
        ("chf", ["congestive heart failure", "heart failure"]), ("hf", ["heart failure"]), ("htn", ["hypertension"]),
        ("dm", ["diabetes mellitus", "diabetes"]), ("t2dm", ["type 2 diabetes"]), ("t1dm", ["type 1 diabetes"]),
        ("afib", ["atrial fibrillation"]), ("af", ["atrial fibrillation"]), ("dvt", ["deep vein thrombosis"]),
        ("copd", ["chronic obstructive pulmonary disease", "emphysema"]), ("ards", ["acute respiratory distress syndrome"]),
        ("ild", ["interstitial lung disease"]), ("ipf", ["idiopathic pulmonary fibrosis"]), ("osa", ["obstructive sleep apnea"]),
        ("sob", ["shortness of breath", "dyspnea"]), ("doe", ["dyspnea on exertion"]), ("cp", ["chest pain"]),
        ("pna", ["pneumonia"]), ("ptx", ["pneumothorax"]), ("tb", ["tuberculosis"]), ("uri", ["upper respiratory infection"]),
        ("uti", ["urinary tract infection"]), ("cva", ["cerebrovascular accident", "stroke"]), ("tia", ["transient ischemic attack"]),
        ("sah", ["subarachnoid hemorrhage"]), ("ich", ["intracranial hemorrhage"]), ("sdh", ["subdural hematoma"]),
        ("ckd", ["chronic kidney disease"]), ("esrd", ["end stage renal disease"]), ("aki", ["acute kidney injury"]),
        ("gerd", ["gastroesophageal reflux disease", "reflux"]), ("gi", ["gastrointestinal"]), ("bph", ["benign prostatic hyperplasia"]),
        ("aaa", ["abdominal aortic aneurysm"]), ("ivc", ["inferior vena cava"]), ("svc", ["superior vena cava"]),
        ("ett", ["endotracheal tube"]), ("ngt", ["nasogastric tube"]), ("picc", ["peripherally inserted central catheter"]),
        ("lll", ["left lower lobe"]), ("rll", ["right lower lobe"]), ("lul", ["left upper lobe"]), ("rul", ["right upper lobe"]),
        ("rml", ["right middle lobe"]), ("lv", ["left ventricle", "left ventricular"]), ("rv", ["right ventricle", "right ventricular"]),
        ("lvh", ["left ventricular hypertrophy"]), ("ef", ["ejection fraction"]), ("hx", ["history"]), ("fx", ["fracture"]),
        ("dx", ["diagnosis"]), ("tx", ["treatment"]), ("sx", ["symptoms"]), ("abd", ["abdomen", "abdominal"]),
        ("ams", ["altered mental status"]), ("loc", ["loss of consciousness"]), ("hiv", ["human immunodeficiency virus"]),
        ("bmi", ["body mass index"]), ("djd", ["degenerative joint disease", "osteoarthritis"]), ("oa", ["osteoarthritis"]),
        ("ddd", ["degenerative disc disease"]), ("sbo", ["small bowel obstruction"]), ("nad", ["no acute distress"]),
    ];

    static readonly (string Abbreviation, (string Sense, string Cues)[] Senses)[] AmbiguousAbbreviations =
    [
        ("pe", [("pulmonary embolism", "ct cta angiography angiogram embolus emboli embolism clot thrombus thrombosis dvt anticoagulation dimer filling defect"),
                ("pleural effusion", "x ray xray cxr radiograph film pleural fluid blunting costophrenic thoracentesis effusion"),
                ("physical exam", "exam examination vitals heent auscultation")]),
        ("mr", [("mitral regurgitation", "echo echocardiogram valve murmur mitral regurgitant"),
                ("magnetic resonance", "scan imaging brain spine mri contrast sequence")]),
        ("ra", [("rheumatoid arthritis", "joint joints arthritis hand hands synovitis erosions"),
                ("right atrium", "echo atrium atrial heart cardiac enlarged dilated"),
                ("room air", "saturation sat sats oxygen o2 spo2 pulse oximetry")]),
        ("pt", [("patient", "the a this"), ("physical therapy", "therapy rehab exercises mobility"), ("prothrombin time", "inr coagulation ptt coag")]),
        ("ms", [("multiple sclerosis", "brain lesions demyelinating white matter mri"), ("mitral stenosis", "valve echo mitral murmur")]),
        ("as", [("aortic stenosis", "valve echo aortic murmur")]),
        ("ca", [("cancer", "tumor mass malignancy metastasis carcinoma"), ("calcium", "level serum electrolytes")]),
    ];

    static readonly string[] CapitalsOnly = ["as", "ms", "ca", "pt", "us", "cp", "loc"];

    static readonly string[][] SynonymGroups =
    [
        ["cardiomegaly", "enlarged heart", "cardiac enlargement", "enlarged cardiac silhouette", "heart enlargement"],
        ["opacity", "opacification", "infiltrate"],
        ["consolidation", "airspace disease", "airspace opacity"],
        ["pleural effusion", "pleural fluid"],
        ["atelectasis", "volume loss", "collapse"],
        ["pneumothorax", "collapsed lung"],
        ["pulmonary edema", "fluid overload", "vascular congestion"],
        ["myocardial infarction", "heart attack"],
        ["stroke", "cerebrovascular accident"],
        ["hypertension", "high blood pressure"],
        ["dyspnea", "shortness of breath", "breathlessness"],
        ["unremarkable", "normal", "within normal limits"],
        ["cholelithiasis", "gallstones"],
        ["nephrolithiasis", "kidney stones", "renal calculi"],
        ["cancer", "carcinoma", "malignancy"],
        ["tumor", "neoplasm"],
        ["radiograph", "x-ray", "xray"],
        ["chest x-ray", "chest radiograph", "chest film"],
        ["hemorrhage", "bleeding", "bleed"],
        ["thrombus", "clot"],
        ["fracture", "break"],
        ["spondylosis", "degenerative changes"],
        ["renal", "kidney"], ["hepatic", "liver"], ["cardiac", "heart"], ["pulmonary", "lung"],
        ["emphysema", "hyperinflation"],
        ["granuloma", "granulomatous disease"],
        ["heart failure", "cardiac failure"],
        ["diabetes", "diabetes mellitus"],
    ];

    readonly Dictionary<string, List<Entry>> _byKey = new(StringComparer.Ordinal);

    public MedicalQueryExpansion()
    {
        var capitals = new HashSet<string>(CapitalsOnly);
        foreach (var (abbr, senses) in Abbreviations)
        {
            Add(abbr, new Entry(abbr, senses.Select(s => new Sense(Tokens(s), [])).ToArray(), false, capitals.Contains(abbr), AbbreviationWeight));
            foreach (var s in senses) Add(s, new Entry(s, [new Sense([abbr], [])], false, false, AbbreviationWeight));
        }
        foreach (var (abbr, senses) in AmbiguousAbbreviations)
        {
            Add(abbr, new Entry(abbr, senses.Select(s => new Sense(Tokens(s.Sense), s.Cues.Split(' ').Select(TextAnalyzer.Stem).ToArray())).ToArray(),
                true, capitals.Contains(abbr), AbbreviationWeight));
            // The long form maps back to the abbreviation only when that is a safe search term.
            if (!capitals.Contains(abbr))
                foreach (var s in senses) Add(s.Sense, new Entry(s.Sense, [new Sense([abbr], [])], false, false, AmbiguousWeight));
        }
        foreach (var group in SynonymGroups)
            foreach (var member in group)
                Add(member, new Entry(member, group.Where(g => g != member).Select(g => new Sense(Tokens(g), [])).ToArray(), false, false, SynonymWeight));
    }

    static string[] Tokens(string phrase) => TextAnalyzer.Tokenize(phrase).Select(t => t.Term).ToArray();
    static string Key(IEnumerable<string> terms) => string.Join(' ', terms.Select(TextAnalyzer.Stem));

    void Add(string phrase, Entry entry)
    {
        var key = Key(Tokens(phrase));
        if (!_byKey.TryGetValue(key, out var list)) _byKey[key] = list = new List<Entry>();
        list.Add(entry);
    }

    public override IReadOnlyList<QueryPhrase> Expand(IReadOnlyList<TextToken> tokens)
    {
        var result = new List<QueryPhrase>();
        if (tokens.Count == 0) return result;
        var stems = tokens.Select(t => TextAnalyzer.Stem(t.Term)).ToArray();
        var queryStems = new HashSet<string>(stems, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal) { Key(tokens.Select(t => t.Term)) };
        foreach (var t in tokens) seen.Add(Key([t.Term]));
        var weights = new Dictionary<string, int>(StringComparer.Ordinal);

        int i = 0;
        while (i < tokens.Count)
        {
            int matched = 0;
            for (int len = Math.Min(MaxPhraseTokens, tokens.Count - i); len >= 1 && matched == 0; len--)
            {
                if (!_byKey.TryGetValue(string.Join(' ', stems, i, len), out var entries)) continue;
                foreach (var entry in entries)
                {
                    if (entry.RequiresCapitals && (len != 1 || !IsAllCapitals(tokens[i].Surface))) continue;
                    matched = len;
                    foreach (var (sense, weight) in Choose(entry, queryStems)) AddPhrase(result, seen, weights, sense, weight, entry.Source);
                }
            }
            i += Math.Max(1, matched);
        }
        return result;
    }

    static IEnumerable<(string[] Tokens, float Weight)> Choose(Entry entry, HashSet<string> queryStems)
    {
        if (!entry.Ambiguous) return entry.Senses.Select(s => (s.Tokens, entry.Weight));
        var cued = entry.Senses.Where(s => s.Cues.Any(queryStems.Contains)).ToList();
        return cued.Count > 0 ? cued.Select(s => (s.Tokens, entry.Weight)) : entry.Senses.Select(s => (s.Tokens, AmbiguousWeight));
    }

    static void AddPhrase(List<QueryPhrase> result, HashSet<string> seen, Dictionary<string, int> index, string[] tokens, float weight, string source)
    {
        var key = Key(tokens);
        if (index.TryGetValue(key, out var at))
        {
            if (result[at].Weight < weight) result[at] = result[at] with { Weight = weight };
            return;
        }
        if (!seen.Add(key)) return;
        index[key] = result.Count;
        result.Add(new QueryPhrase(tokens, weight, true, source));
    }

    static bool IsAllCapitals(string s)
    {
        foreach (var c in s) if (char.IsLetter(c) && !char.IsUpper(c)) return false;
        return true;
    }
}

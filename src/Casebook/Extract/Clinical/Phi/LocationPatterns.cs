using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Locations below state level (Safe Harbor B): street addresses, cities, ZIP codes and named facilities. States and
/// countries are not identifiers and stay. Street suffixes are the USPS common ones plus Bogus' English list (which
/// adds the faker.js suffixes, "Underpass", "Gateway", that Synthea's addresses use; see docs/text-deid.md).
/// </summary>
public static partial class LocationPatterns
{
    static readonly string[] UspsSuffixes =
    [
        "Street", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln", "Drive", "Dr", "Court", "Ct",
        "Way", "Place", "Pl", "Terrace", "Ter", "Circle", "Cir", "Highway", "Hwy", "Parkway", "Pkwy", "Square", "Sq", "Trail",
        "Trl", "Crescent", "Close", "Row", "Walk", "Alley", "Loop", "Pike", "Turnpike", "Run", "Path", "Plaza", "Green", "Gardens",
        "Heights", "Hill", "Hills", "Park", "Point", "Ridge", "Crossing", "Commons", "Grove", "Mews", "Gate", "Rise", "View",
        "Vale", "Parade", "Underpass", "Landing", "Gateway", "Stravenue", "Junction", "Ranch", "Mill", "Mills", "Station", "Summit",
        "Throughway", "Track", "Trafficway", "Tunnel", "Union", "Valley", "Via", "Village", "Ville", "Vista", "Wall", "Well", "Wells",
        "Estates", "Expressway", "Extension", "Falls", "Ferry", "Field", "Fields", "Flat", "Flats", "Ford", "Forest", "Forge", "Fork",
        "Forks", "Freeway", "Glen", "Glens", "Harbor", "Haven", "Isle", "Island", "Knoll", "Knolls", "Lodge", "Manor", "Meadow", "Meadows",
        "Motorway", "Orchard", "Oval", "Pass", "Passage", "Pine", "Pines", "Plain", "Plains", "Prairie", "Radial", "Ramp", "Rapid", "Rest",
        "Route", "Shoal", "Shore", "Shores", "Skyway", "Spring", "Springs", "Spur", "Stream", "Cove", "Creek", "Crest", "Curve", "Dale",
        "Divide", "Bypass", "Camp", "Canyon", "Cape", "Causeway", "Cliff", "Common", "Corner", "Corners", "Courts", "Bridge", "Brook",
        "Burg", "Bluff", "Branch", "Beach", "Bend", "Arcade", "Annex", "Wharf", "Quay", "Embankment", "Broadway",
    ];

    static readonly Regex Address = BuildAddress();

    static Regex BuildAddress()
    {
        var suffixes = UspsSuffixes.Concat(PhiLexicon.StreetSuffixes).Where(s => s.Length > 1).Distinct(StringComparer.OrdinalIgnoreCase)
            .OrderByDescending(s => s.Length).Select(Regex.Escape);
        var word = @"[A-Z][A-Za-z'’.-]*";
        return new Regex(
            @"(?:(?<![\w/-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?(?:\s*&\s*\d{1,6})?|\b(?:One|Two|Three|Four|Five|Six|Seven|Eight|Nine|Ten|Twelve|Fifteen|Twenty|Hundred))\s+(?:(?:[NSEW]\.?|North|South|East|West|Old|Upper|Lower)\s+)?(?:" + word + @"\s+){0,3}(?:" + word + @"|\d{1,3}(?:st|nd|rd|th))\s+(?:" +
            string.Join('|', suffixes) + @")\b\.?(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Fl|Floor|Room|Rm|Bldg|Building|#)\.?\s*#?\s*[A-Za-z0-9-]+)?" +
            @"|\b(?:P\.?\s?O\.?\s+Box|Post\s+Office\s+Box)\s+\d+",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    static readonly string[] StateNames =
    [
        "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida", "Georgia", "Hawaii",
        "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
        "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York",
        "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota",
        "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "District of Columbia",
    ];

    const string StateCodes = "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC";

    /// <summary>States and countries: above Safe Harbor's level, never replaced, and never a city.</summary>
    public static readonly FrozenSet<string> AboveStateLevel = StateNames.Concat([
        "America", "United States", "USA", "US", "Canada", "Mexico", "England", "Scotland", "Wales", "Ireland", "UK", "United Kingdom",
        "Britain", "Great Britain", "India", "China", "Japan", "Korea", "Vietnam", "Philippines", "Germany", "France", "Italy", "Spain",
        "Portugal", "Poland", "Russia", "Ukraine", "Brazil", "Colombia", "Cuba", "Haiti", "Jamaica", "Nigeria", "Ghana", "Kenya",
        "Ethiopia", "Somalia", "Egypt", "Israel", "Iran", "Iraq", "Pakistan", "Bangladesh", "Africa", "Europe", "Asia", "Australia",
        "Puerto Rico", "Thailand", "Indonesia", "Malaysia", "Singapore", "Turkey", "Greece", "Netherlands", "Belgium", "Sweden",
        "Norway", "Denmark", "Finland", "Switzerland", "Austria", "New Zealand", "South Africa", "Morocco", "Lebanon", "Syria", "Afghanistan",
        "Nepal", "Sri Lanka", "Taiwan", "Hong Kong", "Guatemala", "Honduras", "El Salvador", "Peru", "Argentina", "Chile", "Venezuela", "Dominican Republic",
    ]).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    const string CityWord = @"[A-Z][a-z]+(?:['’-][A-Za-z]+)?";
    const string CityName = CityWord + @"(?:\s+" + CityWord + @"){0,3}";

    static readonly Regex CityStateZip = new(
        @"(?<city>" + CityName + @"),\s*(?:(?<state>" + string.Join('|', StateNames.Select(Regex.Escape)) + @")\b(?:,?\s+(?<zip>\d{5}(?:-\d{4})?))?|(?<code>" + StateCodes + @")\b\.?(?:,?\s+(?<zip>\d{5}(?:-\d{4})?))?)(?![\w-])",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    // A city named with a residence or travel cue: "lives in Greenwich", "moved here from Eastchester".
    static readonly Regex CuedCity = new(
        @"\b(?:lives|living|lived|resides|residing|resident|moved(?:\s+here)?|relocated|born|raised|grew\s+up|native|originally|returned|travel(?:l?ed|ing)?|visiting|visited|vacation(?:ed|ing)?|trip|works|working|worked|employed|hometown)\s+(?:(?:here|back|up|home|abroad)\s+)?(?:in|from|to|of|at|near|outside(?:\s+of)?)\s+(?:(?:the\s+)?(?:town|city|village)\s+of\s+)?(?<city>" + CityName + ")",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    [GeneratedRegex(@"\b(?:ZIP|zip\s*code|postal\s+code|postcode)\s*[:#]?\s*(?<zip>\d{5}(?:-\d{4})?)\b", RegexOptions.IgnoreCase)]
    private static partial Regex CuedZip();

    // UK postcodes (PriMock57): "SW1A 1AA", "M1 1AE".
    [GeneratedRegex(@"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\b")]
    private static partial Regex UkPostcode();

    const string FacilityHeads = @"Hospital|Medical\s+Center|Medical\s+Centre|Health\s+Center|Health\s+Centre|Clinic|Infirmary|Health\s+System|Healthcare|Health\s+Care|Nursing\s+Home|Rehabilitation\s+(?:Center|Hospital)|Surgery\s+Center|Surgical\s+Center|Medical\s+Group|Hospice|Care\s+Center|Cancer\s+Center|Cancer\s+Institute|Heart\s+Institute|Memorial|Sanatorium|Assisted\s+Living|Senior\s+Living|Retirement\s+Home|Care\s+Home|Medical\s+Practice|Family\s+Practice|Pediatrics|Urgent\s+Care|Imaging|Radiology|Laboratories|Pharmacy|Hospitals|Medical\s+Centers";

    static readonly Regex Facility = new(
        @"(?<name>(?:(?:St\.?|Saint|Mount|Mt\.?|[A-Z][A-Za-z'’&.-]*)\s+(?:(?:of|the|and|for|&)\s+)*){1,5})(?<head>" + FacilityHeads + @")\b(?:\s+(?:of|at|for|For)\s+(?:the\s+)?(?<tail>" + CityName + @"))?(?:\s+(?:Corporation|Inc\.?|LLC|Northshore|North|South|East|West|Campus|Foundation))?(?:\s+-\s+" + CityName + ")*",
        RegexOptions.CultureInvariant | RegexOptions.Compiled);

    /// <summary>Words that make a facility name generic ("the Emergency Room", "Pain Clinic", "General Hospital"), not an identifier.</summary>
    static readonly FrozenSet<string> GenericFacilityWords = """
        the a an this that our their his her your outside local community regional general memorial medical county state city
        university teaching children's childrens women's womens veterans va emergency er urgent walk-in primary care family
        pain cardiology heart cancer eye diabetes urology sleep wound allergy dialysis orthopedic orthopaedic surgical mental
        health rehabilitation rehab dermatology neurology oncology vascular vein spine sports medicine internal senior memory
        fertility endoscopy gi psychiatric behavioral pediatric paediatric maternity obstetric ob/gyn gyn breast kidney liver
        transplant infusion anticoagulation coumadin warfarin lipid hypertension asthma copd hiv std travel vaccine
        outpatient inpatient day same-day ambulatory specialty specialist private public nearby another other previous prior
        free mobile student employee occupational acute long-term term skilled nursing assisted living retirement hospice
        radiology imaging laboratory lab pharmacy clinic hospital center centre institute group practice office service
        services department unit ward floor icu ed or and of for at in to with by from on
        """.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    static readonly FrozenSet<string> LeadingWords = """
        the a an at to from in into by with per of our their his her this that outside local seen admitted transferred discharged referred
        patient pt records report reports called faxed sent
        """.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Candidates (start, end, type).</summary>
    public static IEnumerable<(int Start, int End, string Type)> Find(string text)
    {
        foreach (Match m in Address.Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Address);
        foreach (Match m in CityStateZip.Matches(text))
        {
            var city = m.Groups["city"];
            var zip = m.Groups["zip"];
            // Two-letter codes that are also credentials or words ("Smith, MD", "MS", "PA") need a ZIP after them.
            if (m.Groups["code"].Success && !zip.Success) continue;
            foreach (var (s, e) in CityWords(text, city))
                yield return (s, e, PhiType.City);
            if (zip.Success) yield return (zip.Index, zip.Index + zip.Length, PhiType.Zip);
        }
        foreach (Match m in CuedCity.Matches(text))
            foreach (var (s, e) in CityWords(text, m.Groups["city"]))
                yield return (s, e, PhiType.City);
        foreach (Match m in CuedZip().Matches(text)) yield return (m.Groups["zip"].Index, m.Groups["zip"].Index + m.Groups["zip"].Length, PhiType.Zip);
        foreach (Match m in UkPostcode().Matches(text)) yield return (m.Index, m.Index + m.Length, PhiType.Zip);
        foreach (Match m in Facility.Matches(text))
        {
            var name = m.Groups["name"];
            // Drop leading generic words ("the", "Outside", "Memorial"...) until a distinctive one; all generic = not a name.
            var words = Regex.Matches(name.Value, @"\S+");
            var distinctive = false;
            foreach (Match w in words)
                if (!GenericFacilityWords.Contains(w.Value.TrimEnd('.', ',')) && !PhiLexicon.NotName.Contains(w.Value.TrimEnd('.').ToLowerInvariant()))
                { distinctive = true; break; }
            if (!distinctive) continue;
            // The name starts after leading words that belong to the sentence ("The", "At", "Outside"), not to the facility.
            var first = 0;
            foreach (Match w in words)
            {
                if (!LeadingWords.Contains(w.Value.TrimEnd('.', ','))) { first = w.Index; break; }
            }
            var start = name.Index + first;
            yield return (start, m.Index + m.Length, PhiType.Facility);
        }
    }

    // The city part of a match, dropping leading words that are not place names ("Lives in", "Patient from").
    static IEnumerable<(int, int)> CityWords(string text, Group city)
    {
        var value = city.Value;
        var words = Regex.Matches(value, @"\S+").Cast<Match>().ToList();
        var i = 0;
        while (i < words.Count && PhiLexicon.NotName.Contains(words[i].Value.ToLowerInvariant()) && !PlaceWords.Contains(words[i].Value)) i++;
        if (i >= words.Count) yield break;
        var s = city.Index + words[i].Index;
        var e = city.Index + city.Length;
        var cityText = text[s..e];
        if (AboveStateLevel.Contains(cityText)) yield break;
        yield return (s, e);
    }

    static readonly FrozenSet<string> PlaceWords = new[] { "North", "South", "East", "West", "New", "Old", "Saint", "St", "Mount", "Mt", "Fort", "Port", "Lake" }.ToFrozenSet();
}

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// The identifier types <see cref="PhiDetector"/> reports, after the 18 HIPAA Safe Harbor identifiers
/// (45 CFR §164.514(b)(2)(i)). Locations below state level are split into ADDRESS, CITY, ZIP and FACILITY so a
/// surrogate of the right shape can replace each; "ID" is §164.514(b)(2)(i)(R), any other unique number.
/// </summary>
public static class PhiType
{
    public const string Name = "NAME";
    public const string Address = "ADDRESS";
    public const string City = "CITY";
    public const string Zip = "ZIP";
    public const string Facility = "FACILITY";
    public const string Date = "DATE";
    public const string Age = "AGE";
    public const string Phone = "PHONE";
    public const string Fax = "FAX";
    public const string Email = "EMAIL";
    public const string Ssn = "SSN";
    public const string Mrn = "MRN";
    public const string HealthPlan = "HEALTH_PLAN";
    public const string Account = "ACCOUNT";
    public const string License = "LICENSE";
    public const string Vehicle = "VEHICLE";
    public const string Device = "DEVICE";
    public const string Url = "URL";
    public const string Ip = "IP";
    public const string Id = "ID";

    public static readonly IReadOnlyList<string> All =
        [Name, Address, City, Zip, Facility, Date, Age, Phone, Fax, Email, Ssn, Mrn, HealthPlan, Account, License, Vehicle, Device, Url, Ip, Id];

    /// <summary>The identifier-number types the ID floor covers (SSN, MRN, plan, account, licence, vehicle, device, other).</summary>
    public static bool IsIdNumber(string type) =>
        type is Ssn or Mrn or HealthPlan or Account or License or Vehicle or Device or Id;

    /// <summary>The location types (Safe Harbor B: geographic subdivisions smaller than a state).</summary>
    public static bool IsLocation(string type) => type is Address or City or Zip or Facility;
}

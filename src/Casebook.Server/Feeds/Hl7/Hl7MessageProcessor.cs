using Casebook.Ingest;

namespace Casebook.Server.Feeds.Hl7;

/// <summary>What became of one message: the ACK code, its text, the HL7 error code, and the audit's action and target.</summary>
public sealed record Hl7Outcome(string Code, string Text, string? ErrorCode, string Action, string Target);

/// <summary>
/// Applies one HL7 v2 message to the database: ORU^R01 reports go through the text pipeline (<see cref="CasebookDb.AddReceivedReport"/>),
/// ADT^A08 updates a patient's de-identified demographics, ADT^A40 merges a prior patient into the surviving one
/// (<see cref="CasebookDb.UpdatePatientDemographics"/>, <see cref="CasebookDb.MergePatients"/>). Patients are PID-3's first
/// identifier under its assigning authority (PID-3.4), else the default issuer "local" — the issuer DICOM ingest uses when
/// IssuerOfPatientID is absent, so both feeds pseudonymise one patient alike.
/// </summary>
public sealed class Hl7MessageProcessor(IFeedTarget feed)
{
    static readonly HashSet<string> TextTypes = ["TX", "FT", "ST"];
    static readonly HashSet<string> Modalities = ["CT", "MR", "CR", "DX", "US", "NM", "PT", "MG", "XA", "RF", "OT", "IO", "PX", "SM", "ES", "XC"];

    public async Task<Hl7Outcome> ProcessAsync(Hl7Message m, CancellationToken ct)
    {
        var type = $"{m.MessageType}^{m.TriggerEvent}";
        var target = $"hl7 {type} {m.ControlId}";
        if (m.ControlId.Length == 0) throw new Hl7Exception("MSH-10 (message control id) is empty", Hl7Exception.RequiredFieldMissing, reject: true);
        if (!m.Version.StartsWith("2.", StringComparison.Ordinal))
            throw new Hl7Exception($"MSH-12: version '{m.Version}' is not HL7 v2.x", Hl7Exception.UnsupportedVersion, reject: true);
        return (m.MessageType, m.TriggerEvent) switch
        {
            ("ORU", "R01") => await Report(m, target, ct),
            ("ADT", "A08") => await Update(m, target, ct),
            ("ADT", "A40") => await Merge(m, target, ct),
            ("ORU" or "ADT", _) => throw new Hl7Exception($"MSH-9: event '{type}' is not supported (ORU^R01, ADT^A08 and ADT^A40 are)", Hl7Exception.UnsupportedEvent, reject: true),
            _ => throw new Hl7Exception($"MSH-9: message type '{type}' is not supported (ORU^R01, ADT^A08 and ADT^A40 are)", Hl7Exception.UnsupportedMessageType, reject: true),
        };
    }

    static (string Issuer, string Id) Patient(Hl7Segment segment, int field, string name)
    {
        var id = segment.Get(field, 1).Trim();
        if (id.Length == 0) throw new Hl7Exception($"{name}: the patient identifier (CX.1) is empty", Hl7Exception.RequiredFieldMissing);
        var authority = segment.Get(field, 4, 1).Trim();
        return (authority.Length > 0 ? authority : StudyManifest.DefaultIssuer, id);
    }

    static Hl7Segment Required(Hl7Message m, string id) =>
        m.First(id) ?? throw new Hl7Exception($"the message has no {id} segment", Hl7Exception.SegmentSequence);

    /// <summary>ORU^R01: each OBR with the OBX text values that follow it (TX, FT, ST; repetitions and lines joined) is one report.</summary>
    async Task<Hl7Outcome> Report(Hl7Message m, string target, CancellationToken ct)
    {
        var pid = Required(m, "PID");
        var (issuer, patientId) = Patient(pid, 3, "PID-3");
        var reports = new List<(Hl7Segment Obr, List<string> Lines)>();
        foreach (var s in m.Segments)
        {
            if (s.Id == "OBR") reports.Add((s, new List<string>()));
            else if (s.Id == "OBX")
            {
                if (reports.Count == 0) throw new Hl7Exception("an OBX segment comes before any OBR", Hl7Exception.SegmentSequence);
                if (!TextTypes.Contains(s.Get(2).Trim().ToUpperInvariant())) continue; // numeric and coded results are not report text
                foreach (var rep in Enumerable.Range(0, s.Repetitions(5).Count)) reports[^1].Lines.Add(s.Get(5, 1, 1, rep));
            }
        }
        if (reports.Count == 0) throw new Hl7Exception("the message has no OBR segment", Hl7Exception.SegmentSequence);
        var results = new List<string>();
        for (var i = 0; i < reports.Count; i++)
        {
            var (obr, lines) = reports[i];
            var text = string.Join("\n", lines).Trim();
            if (text.Length == 0) throw new Hl7Exception($"OBR {i + 1}: no report text (OBX of type TX, FT or ST)", Hl7Exception.RequiredFieldMissing);
            // Accession: filler order number, placer order number, then the placer/filler fields radiology systems use for it.
            var accessions = new[] { obr.Get(3), obr.Get(2), obr.Get(18), obr.Get(20), obr.Get(19) }.Where(a => a.Trim().Length > 0).ToList();
            if (accessions.Count == 0) throw new Hl7Exception($"OBR {i + 1}: no accession (OBR-3 filler or OBR-2 placer order number, OBR-18)", Hl7Exception.RequiredFieldMissing);
            var section = obr.Get(24).Trim().ToUpperInvariant();
            var report = new ReceivedReport(issuer, patientId, text, accessions, $"ORU_R01_{m.ControlId}_{i + 1}")
                { Modality = Modalities.Contains(section) ? section : null };
            var result = await feed.AddReceivedReportAsync(report, $"HL7 ORU^R01 {m.ControlId} from {m.Sender}", ct);
            if (result.Errors.Count > 0)
                throw new Hl7Exception($"OBR {i + 1}: {string.Join("; ", result.Errors.Select(e => e.Reason))}", Hl7Exception.ApplicationError);
            results.Add(result.Version == null ? $"study {result.StudyId} already has this report"
                : $"{(result.Created ? "made report-only study" : "added to study")} {result.StudyId} (version {result.Version})");
        }
        return new Hl7Outcome(Hl7Acknowledgement.Accept, string.Join("; ", results), null, "hl7.oru", target);
    }

    /// <summary>ADT^A08: PID-8 sex and PID-7 birth date (kept only as the age band at each study).</summary>
    async Task<Hl7Outcome> Update(Hl7Message m, string target, CancellationToken ct)
    {
        var pid = Required(m, "PID");
        var (issuer, patientId) = Patient(pid, 3, "PID-3");
        var sex = pid.Get(8).Trim();
        var birthRaw = pid.Get(7).Trim();
        DateOnly? birth = null;
        if (birthRaw.Length > 0) birth = Hl7Message.ParseDate(birthRaw) ?? throw new Hl7Exception($"PID-7: '{birthRaw}' is not a date", Hl7Exception.DataType);
        if (sex.Length == 0 && birth == null) return new Hl7Outcome(Hl7Acknowledgement.Accept, "no demographics to update (PID-7, PID-8 empty)", null, "hl7.adt.a08", target);
        var asOf = Hl7Message.ParseDate(m.Msh.Get(7)) ?? DateOnly.FromDateTime(DateTime.UtcNow);
        var demographics = new PatientDemographics(sex.Length > 0 ? sex : null, birth) { AsOf = asOf };
        var result = await feed.UpdatePatientAsync(issuer, patientId, demographics, $"HL7 ADT^A08 {m.ControlId} from {m.Sender}: patient update", "hl7:" + m.Sender, ct);
        var text = result.Version is { } v ? $"updated {result.Studies} studies of the patient (version {v})"
            : result.Unchanged > 0 ? $"{result.Unchanged} studies already up to date" : "no studies of this patient; nothing to update";
        return new Hl7Outcome(Hl7Acknowledgement.Accept, text, null, "hl7.adt.a08", target);
    }

    /// <summary>ADT^A40: each PID (surviving patient) with its MRG (MRG-1: the prior patient identifier).</summary>
    async Task<Hl7Outcome> Merge(Hl7Message m, string target, CancellationToken ct)
    {
        var pairs = new List<(Hl7Segment Pid, Hl7Segment Mrg)>();
        Hl7Segment? pid = null;
        foreach (var s in m.Segments)
            if (s.Id == "PID") pid = s;
            else if (s.Id == "MRG")
            {
                if (pid == null) throw new Hl7Exception("an MRG segment comes before its PID", Hl7Exception.SegmentSequence);
                pairs.Add((pid, s));
            }
        if (pairs.Count == 0) throw new Hl7Exception(m.First("PID") == null ? "the message has no PID segment" : "the message has no MRG segment", Hl7Exception.SegmentSequence);
        var texts = new List<string>();
        foreach (var (p, mrg) in pairs)
        {
            var (issuer, survivor) = Patient(p, 3, "PID-3");
            var (priorIssuer, prior) = Patient(mrg, 1, "MRG-1");
            PatientChangeResult result;
            try
            {
                result = await feed.MergePatientsAsync(issuer, survivor, priorIssuer, prior,
                    $"HL7 ADT^A40 {m.ControlId} from {m.Sender}: merge patient", "hl7:" + m.Sender, ct);
            }
            catch (ArgumentException e) { throw new Hl7Exception("MRG-1: " + e.Message, Hl7Exception.UnknownKey); }
            texts.Add(result.Version is { } v ? $"moved {result.Studies} studies and {result.Events} events to the surviving patient (version {v})"
                : "nothing stored under the prior patient; nothing to merge");
        }
        return new Hl7Outcome(Hl7Acknowledgement.Accept, string.Join("; ", texts), null, "hl7.adt.a40", target);
    }
}

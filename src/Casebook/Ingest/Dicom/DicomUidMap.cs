using Casebook.Extract.Dicom.Deid;

namespace Casebook.Ingest.Dicom;

/// <summary>
/// UIDs as they appear in stored (de-identified) DICOM: the de-identifier's keyed remap (<see cref="UidRemapper"/>, "2.25." +
/// 128 bits of an HMAC, PS3.5 §B.2). study_id of a DICOM study is its remapped StudyInstanceUID, so it equals the
/// StudyInstanceUID inside the stored key instance, and databases sharing a key file agree on it.
/// </summary>
public static class DicomUidMap
{
    public static string Remap(PatientPseudonym key, string uid) => new UidRemapper(key).Remap(uid);
}

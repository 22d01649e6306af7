using System.Collections.Frozen;
using Bogus.Bson;

namespace Casebook.Extract.Clinical.Phi;

/// <summary>
/// Word lists the PHI detector and the surrogate generator share. Person names come from Bogus' English locale (the
/// faker.js lists, ~3,000 first and ~470 last names): the detector uses the first names as evidence for "First Last"
/// pairs without a context cue, and the replacer draws surrogates from both lists. Because detection uses this lexicon,
/// the evaluation inserts names from other sources and reports recall on names outside it separately (docs/text-deid.md).
/// The hand-written lists below are what keeps medical words, eponyms and headings from being taken for names.
/// </summary>
public static class PhiLexicon
{
    public static IReadOnlyList<string> FirstNames { get; } = Load("name", "first_name");
    public static IReadOnlyList<string> LastNames { get; } = Load("name", "last_name");
    public static IReadOnlyList<string> StreetSuffixes { get; } = Load("address", "street_suffix");

    public static FrozenSet<string> FirstNameSet { get; } = FirstNames.Select(n => n.ToLowerInvariant()).ToFrozenSet();
    public static FrozenSet<string> LastNameSet { get; } = LastNames.Select(n => n.ToLowerInvariant()).ToFrozenSet();

    static List<string> Load(string category, string path)
    {
        var list = new List<string>();
        if (Bogus.Database.Get(category, path, "en") is BArray array)
            for (var i = 0; i < array.Count; i++)
                if (array[i].StringValue is { Length: > 0 } s && !list.Contains(s)) list.Add(s);
        if (list.Count == 0) throw new InvalidOperationException($"Bogus locale 'en' has no {category}.{path} list");
        return list;
    }

    /// <summary>
    /// Capitalised words that are not names in clinical text: function words, pronouns, headings, roles, departments,
    /// common clinical adjectives. A context cue ("seen by", "Patient:") followed by one of these is not a name.
    /// </summary>
    public static readonly FrozenSet<string> NotName = Words("""
        a an the this that these those he she his her hers him they them their we us our i me my you your it its
        is was were be been being are am has have had do does did will would shall should may might can could must
        and or but nor with without in on at to for of by from as per via after before during since until about
        not no yes none nil all any some each every both either neither other another same self unknown n/a na
        who whom whose which what when where why how there here then than also only just very well still again
        patient patients pt pts client resident member subject case person people family relative relatives friend
        male female man woman boy girl child infant baby adult gentleman lady mother father son daughter wife husband
        brother sister spouse partner parent parents guardian caregiver
        mr mrs ms miss dr doctor prof professor nurse sister sr jr md do rn np pa phd
        history exam examination findings finding impression impressions assessment plan diagnosis diagnoses
        procedure procedures indication indications technique comparison report note notes addendum summary
        chief complaint hpi ros pmh psh fh sh medications medication meds allergies allergy vitals vital signs
        labs lab laboratory results result studies study imaging radiology pathology cardiology neurology
        oncology orthopedics orthopaedics surgery surgical medicine internal emergency department dept er ed icu
        ccu nicu picu pacu or ward unit floor service team staff nursing pharmacy physical occupational therapy
        therapist social work worker case management dietary nutrition hospice palliative rehab rehabilitation
        anesthesia anesthesiology anesthetic general local regional spinal epidural mac sedation
        urology nephrology gastroenterology gi pulmonary pulmonology dermatology psychiatry psychology ent
        ophthalmology obstetrics gynecology ob gyn pediatrics endocrinology rheumatology hematology infectious
        disease diseases primary care clinic hospital office home outpatient inpatient attending consultant
        physician physicians provider providers surgeon surgeons resident residents fellow intern staff
        alert oriented awake stable normal abnormal negative positive left right bilateral acute chronic mild
        moderate severe significant unremarkable clear noted seen status post prior previous current
        today yesterday tomorrow tonight morning afternoon evening night daily weekly monthly
        monday tuesday wednesday thursday friday saturday sunday
        january february march april may june july august september october november december
        denies reports states presents presented complains admits returns continue continued start started stop
        stopped discontinue discontinued take taking increase decrease follow followup follow-up return call
        please see refer referral consult consultation discharge discharged admission admitted transfer
        subjective objective heent neck lungs heart abdomen extremities neuro neurologic skin psych gu msk
        cv resp chest back head eyes ears nose throat mouth general constitutional
        blood pressure pulse temperature weight height bmi oxygen saturation
        tablet tablets capsule capsules dose doses mg ml units
        signed electronically dictated transcribed reviewed verified read interpreted cc attending
        date time dob age sex gender race name mrn id number phone fax email address
        mum mom mommy dad daddy nan nana granny grandma grandpa auntie papa mama
        scan scans drain drains ct mri echo ekg ecg eeg emg ultrasound x-ray xray biopsy recovery pacu
        if specifically occasionally confusion results insurance electronically thank thanks pacemaker
        xx xxx xxxx xxxxx
        north south east west new old st saint mount mt fort port lake
        """);

    /// <summary>Eponyms of diseases, signs, fractures, instruments and scores; "Parkinson disease" and "Murphy sign" are not people.</summary>
    public static readonly FrozenSet<string> Eponyms = Words("""
        parkinson parkinsonism alzheimer hodgkin hodgkins crohn crohns addison cushing graves hashimoto kaposi murphy kerley
        colles smith barrett bell wilson down tourette raynaud meniere guillain barre bence jones babinski homan homans
        romberg trendelenburg foley swan ganz whipple nissen roux billroth hartmann valsalva glasgow apgar kussmaul cheyne
        stokes wolff parkinson huntington gehrig sjogren reiter still kawasaki marfan ehlers danlos turner klinefelter
        wernicke korsakoff broca osler virchow horner baker morton dupuytren achilles fallot epstein barr coombs gram ziehl
        neelsen papanicolaou pap holter doppler lachman mcmurray phalen tinel finkelstein spurling hoffmann hoffman
        brudzinski kernig rovsing mcburney cullen chvostek trousseau levine mallory weiss zenker schatzki meckel
        hirschsprung wilms ewing burkitt hurthle warthin bowen paget peyronie scheuermann osgood schlatter legg calve
        perthes salter harris monteggia galeazzi bennett rolando bankart segond lisfranc chopart maisonneuve weber pott
        tillaux jefferson hangman chance garden pauwels gustilo schatzker neer mason frykman gartland kocher pfannenstiel
        bovie metzenbaum mayo kelly allis babcock richardson deaver bookwalter weitlaner gelpi hasson veress jackson pratt
        blake penrose hemovac steri dermabond vicryl monocryl prolene ethibond tegaderm xeroform betadine marcaine
        kenalog medrol foley hickman broviac groshong port-a-cath mediport greenfield denver pleurx
        bell's charcot marie tooth creutzfeldt jakob niemann pick gaucher fabry tay sachs pompe lesch nyhan prader willi
        angelman rett williams noonan edwards patau dandy walker arnold chiari moyamoya takayasu buerger wegener
        goodpasture churg strauss henoch schonlein behcet kikuchi castleman waldenstrom kahler sezary richter hashimoto
        de quervain riedel grave conn bartter gitelman liddle fanconi alport berger minimal
        gleason breslow clark bethesda birads bi-rads tirads li-rads pi-rads lirads child pugh meld ranson wells caprini
        cha2ds2 hasbled has-bled nyha killip tanner karnofsky ecog kps braden morse norton
        lugol gomori wright giemsa hematoxylin eosin masson congo alcian schiff warthin-starry
        heimlich seldinger hartmann's whipple's nissen's kerley's colles' murphy's bell's
        vater oddi glisson morison douglas bochdalek morgagni treitz meissner auerbach langerhans kupffer sertoli leydig
        purkinje schwann ranvier wernicke's broca's willis monro sylvius luschka magendie galen rosenthal
        hunter scarpa poupart cooper hesselbach gerota denonvilliers alcock retzius waldeyer virchow's
        eustachian fallopian bartholin skene cowper graafian wharton stensen
        doppler scarpa prolene mastisol steri-strips fournier winter tenon ringer lugol hartmann buck bryant tietze guyon camper
        gerota calot bowman peyer heberden bouchard janeway roth beck grey lhermitte froment apley allen adson ortolani barlow
        thompson simmonds rinne dix hallpike epley ramsay argyll adie gunn battle brown-sequard wallenberg gerstmann anton
        korotkoff korotkov friedewald cockcroft gault mdrd ckd-epi framingham
        """);

    /// <summary>Head nouns after an eponym ("Kerley B lines", "Colles fracture"): a capitalised word before one of these is not a name.</summary>
    public static readonly FrozenSet<string> EponymHeads = Words("""
        disease diseases syndrome syndromes sign signs test tests maneuver manoeuvre fracture fractures lines line score
        scale scales criteria classification procedure operation repair reflex reflexes phenomenon node nodes cell cells
        body bodies duct canal tube catheter needle incision position point triad law ratio grade stage type palsy
        tumor tumour lymphoma ulcer hernia foramen space area nerve artery ligament gland cyst approach technique method
        stain staining clamp clamps scissors forceps retractor retractors stitch suture drain drains dressing stockings
        hose boot splint cast brace fixation nail plate screw pouch anastomosis fundoplication esophagus esophagitis
        disorder deformity contracture contractures thyroiditis encephalopathy dementia chorea cardiomyopathy anomaly
        anemia anaemia index formula equation rule rules classification's monitor monitoring mask valve sinus sinuses
        lactate solution triangle fascia capsule patches patch nodule nodules lesions lesion spots aphasia pupil traction
        ring diverticulum neuroma sarcoma phenomenon pouch space layer membrane plexus ganglion organ ampulla papilla
        glands angle curve loop cycle criteria' maneuvers manoeuvres tests sign's fracture's bursa bursitis
        """);

    static FrozenSet<string> Words(string text) =>
        text.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(w => w.ToLowerInvariant()).ToFrozenSet();
}

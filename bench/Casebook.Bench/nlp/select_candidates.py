#!/usr/bin/env python3
"""Selects candidate (sentence, target) pairs for Casebook's hand-labelled assertion set from ../shared/data/text.

Writes references only (source, record, field, sentence offsets, target) -- never the text. Sentences are cut with a
plain regex splitter (independent of Casebook's splitter); targets come from a fixed list of clinical conditions; the
sample is seeded and stratified by cue words so that negated, hedged, historical, hypothetical and family-history
mentions are all present. Labels were then added by hand, reading each sentence (assertion-set.tsv).
"""
import csv, json, os, random, re, sys

# usage: select_candidates.py SHARED_DATA [SEED] [EXCLUDE.tsv] [SCALE]  (the development set: seed 20261125; the
# held-out set: seed 7, excluding the development set's records, scale 0.4)
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data')
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261125
exclude = set()
if len(sys.argv) > 3:
    for line in open(sys.argv[3]):
        f = line.rstrip('\n').split('\t')
        if len(f) > 2 and not line.startswith('#'): exclude.add((f[0], f[1]))
scale = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
text_dir = os.path.join(shared, 'text')
TARGETS = ['pneumothorax', 'pleural effusion', 'effusion', 'consolidation', 'pneumonia', 'edema', 'cardiomegaly', 'atelectasis',
           'nodule', 'mass', 'fracture', 'opacity', 'opacities', 'infiltrate', 'granuloma', 'emphysema', 'scoliosis',
           'chest pain', 'shortness of breath', 'fever', 'fevers', 'chills', 'nausea', 'vomiting', 'diarrhea', 'cough',
           'headache', 'abdominal pain', 'pain', 'hypertension', 'diabetes', 'asthma', 'copd', 'heart failure', 'cancer',
           'myocardial infarction', 'stroke', 'seizure', 'syncope', 'dizziness', 'weight loss', 'rash', 'tenderness',
           'swelling', 'bleeding', 'hematuria', 'dysuria', 'palpitations', 'depression', 'anxiety', 'smoking', 'alcohol',
           'infection', 'lymphadenopathy', 'hernia', 'murmur', 'wheezing', 'blood', 'constipation', 'numbness', 'weakness',
           'tuberculosis', 'embolism', 'thrombosis', 'dvt', 'obesity', 'hyperlipidemia', 'coronary artery disease']
CUES = {'neg': r'\b(no|not|denies|denied|without|negative|free of|absence|nil|none|ruled out|resolved)\b',
        'unc': r'\b(possible|possibly|probable|likely|may|might|could|suspect|suspicious|question|rule out|r/o|versus|vs|concern|cannot exclude|equivocal)\b',
        'hist': r'\b(history|hx|h/o|prior|previous|s/p|status post|years ago|in the past)\b',
        'hyp': r'\b(if|should|return|call|as needed|risk of)\b',
        'fam': r'\b(mother|father|sister|brother|family|aunt|uncle|grandmother|grandfather|son|daughter)\b'}
QUOTA = {'neg': 110, 'unc': 45, 'hist': 45, 'hyp': 25, 'fam': 25, 'plain': 90}

def sentences(text):
    for m in re.finditer(r'[^.!?\n]+(?:[.!?]+|$)', text):
        s, e = m.start(), m.end()
        while s < e and text[s] in ' ,\t': s += 1
        while e > s and text[e - 1] in ' ,\t': e -= 1
        if e - s >= 12: yield s, e

def records():
    with open(os.path.join(text_dir, 'iu-xray', 'indiana_reports.csv'), newline='') as f:
        for row in csv.DictReader(f):
            for field in ('findings', 'impression', 'indication'):
                yield 'iu-xray', row['uid'], field, row[field] or ''
    with open(os.path.join(text_dir, 'mtsamples', 'mtsamples.csv'), newline='') as f:
        for row in csv.reader(f):
            yield 'mtsamples', row[0].strip(), 'transcription', row[4]
    notes = os.path.join(text_dir, 'primock57', 'notes')
    for name in sorted(os.listdir(notes)):
        if name.endswith('.json'):
            yield 'primock57', name[:-5], 'note', json.load(open(os.path.join(notes, name)))['note']

rng = random.Random(seed)
QUOTA = {k: round(v * scale) for k, v in QUOTA.items()}
pools = {k: [] for k in QUOTA}
for source, record, field, text in records():
    for s, e in sentences(text):
        sent = text[s:e]
        low = sent.lower()
        found = [t for t in TARGETS if re.search(r'\b' + re.escape(t) + r'\b', low)]
        if not found or 'xxxx' in low or (source, record) in exclude: continue
        target = rng.choice(found)
        kind = next((k for k, rx in CUES.items() if re.search(rx, low)), 'plain')
        pools[kind].append((source, record, field, s, e, target))
out = csv.writer(sys.stdout, delimiter='\t', lineterminator='\n')
out.writerow(['source', 'record', 'field', 'start', 'end', 'target'])
for kind, n in QUOTA.items():
    pool = pools[kind]
    rng.shuffle(pool)
    # At most 2 sentences per record and 25 per source/kind keeps the set varied.
    per_record, per_source, picked = {}, {}, 0
    for c in pool:
        if picked >= n: break
        key = (c[0], c[1])
        if per_record.get(key, 0) >= 2 or per_source.get(c[0], 0) >= n * 0.5: continue
        per_record[key] = per_record.get(key, 0) + 1
        per_source[c[0]] = per_source.get(c[0], 0) + 1
        out.writerow(c)
        picked += 1

#!/usr/bin/env python3
"""pydicom's view of DICOM files, in the shape of `casebook dicom dump --json`.

Usage: pydicom_dump.py --list PATHS_FILE   (one path per line)  or  pydicom_dump.py FILE...
Writes one JSON object per line: {"path", "transfer_syntax", "elements"} or {"path", "error"}.
Values follow the dump contract: scalar when VM is 1, list when VM > 1, null when empty; PN as its decoded
string; DS/IS as numbers; AT as "(gggg,eeee)"; binary VRs (OB OD OF OL OV OW UN) as {"length": N};
sequences as "items": [[...]]. An element pydicom cannot convert gets {"pydicom_error": "..."} as its value.
"""
import json
import math
import sys
import warnings

try:
    import pydicom
    from pydicom.multival import MultiValue
    from pydicom.valuerep import PersonName
    from pydicom.tag import BaseTag
except ImportError:
    sys.stderr.write("pydicom is not installed (Debian: apt-get install python3-pydicom)\n")
    sys.exit(3)

BINARY = {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "OB or OW", "US or OW", "US or SS or OW"}


def scalar(v, vr):
    if v is None:
        return None
    if isinstance(v, PersonName):
        s = str(v)
        return s if s != "" else None
    if isinstance(v, BaseTag):
        return "(%04X,%04X)" % (v.group, v.element)
    if vr == "AT" and isinstance(v, int):
        return "(%04X,%04X)" % (v >> 16, v & 0xFFFF)
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return float(v)
    if isinstance(v, bytes):
        return {"length": len(v)}
    s = str(v)
    return s if s != "" else None


def value_of(elem):
    vr = vr_of(elem)
    v = elem.value
    if vr in BINARY or isinstance(v, (bytes, bytearray)):
        return {"length": len(v) if v is not None else 0}
    if v is None:
        return None
    if isinstance(v, (MultiValue, list, tuple)):
        vals = [scalar(x, vr) for x in v]
        if len(vals) == 0:
            return None
        if len(vals) == 1:
            return vals[0]
        return vals
    if isinstance(v, str) and v == "":
        return None
    return scalar(v, vr)


def vr_of(elem):
    vr = elem.VR
    return str(getattr(vr, "value", vr))


def element(elem):
    out = {"tag": "(%04X,%04X)" % (elem.tag.group, elem.tag.element), "vr": vr_of(elem), "keyword": elem.keyword or ""}
    if vr_of(elem) == "SQ":
        out["items"] = [dataset(item) for item in elem.value]
    else:
        try:
            out["value"] = value_of(elem)
        except Exception as e:  # noqa: pydicom's own conversion failed
            out["value"] = {"pydicom_error": f"{type(e).__name__}: {e}"}
    return out


def dataset(ds):
    out = []
    for tag in sorted(ds.keys()):
        try:
            elem = ds[tag]
        except Exception as e:
            out.append({"tag": "(%04X,%04X)" % (tag.group, tag.element), "vr": "??", "keyword": "", "value": {"pydicom_error": f"{type(e).__name__}: {e}"}})
            continue
        out.append(element(elem))
    return out


def dump(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True)
            meta = getattr(ds, "file_meta", None)
            elements = (dataset(meta) if meta is not None else []) + dataset(ds)
            ts = None
            if meta is not None and "TransferSyntaxUID" in meta:
                ts = str(meta.TransferSyntaxUID)
            return {"path": path, "transfer_syntax": ts, "elements": elements}
        except Exception as e:
            return {"path": path, "error": f"{type(e).__name__}: {e}"}


def main(argv):
    if len(argv) >= 2 and argv[0] == "--list":
        paths = [line.rstrip("\n") for line in open(argv[1], encoding="utf-8") if line.strip()]
    else:
        paths = argv
    out = sys.stdout
    for p in paths:
        out.write(json.dumps(dump(p), ensure_ascii=False, allow_nan=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])

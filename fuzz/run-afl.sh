#!/bin/sh
# The long AFL++ campaign: one process, lowest priority (shared 2-core machine). See fuzz/README.md.
# Usage: fuzz/run-afl.sh [seconds]   (run from the repository root after building and instrumenting, see README)
cd "$(dirname "$0")"
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
# A hard .NET heap limit turns an unbounded allocation into an OutOfMemoryException, which AFL records as a crash.
export DOTNET_GCHeapHardLimit=0x40000000 DOTNET_gcServer=0 DOTNET_GCgen0size=0x4000000
exec nice -n 19 afl-fuzz -i seeds -o out/afl -x dicom.dict -t 5000 -m none -V "${1:-3900}" -- dotnet out/afl-bin/Casebook.Fuzz.dll afl

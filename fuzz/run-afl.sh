#!/bin/sh
# The long AFL++ campaign: one afl-fuzz process at the lowest priority (shared 2-core machine). See fuzz/README.md.
# Usage: fuzz/run-afl.sh [seconds]  (after building and instrumenting into fuzz/out/afl-bin, see README).
# If afl-fuzz stops early (the target process died: AFL reports "Unable to communicate with fork server"), the input it
# was running is kept in out/aborts/ and the campaign resumes from out/afl until the deadline.
cd "$(dirname "$0")"
export AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_AUTORESUME=1
# A hard .NET heap limit turns an unbounded allocation into an OutOfMemoryException, which AFL records as a crash.
export DOTNET_GCHeapHardLimit=0x40000000 DOTNET_gcServer=0
deadline=$(( $(date +%s) + ${1:-3600} ))
mkdir -p out/aborts
while [ "$(date +%s)" -lt "$deadline" ]; do
  left=$(( deadline - $(date +%s) ))
  # -t 10000: the harness's own 2 s watchdog reports slow inputs; AFL's timeout would kill the fork server.
  nice -n 19 afl-fuzz -i seeds -o out/afl -x dicom.dict -t 10000 -m none -V "$left" -- dotnet out/afl-bin/Casebook.Fuzz.dll afl
  [ -f out/afl/default/.cur_input ] && cp out/afl/default/.cur_input "out/aborts/$(date +%s)"
  echo "afl-fuzz exited at $(date -u +%T), $(( deadline - $(date +%s) )) s left"
  sleep 2
done

// Preload module: V8's sampling heap profiler over the whole run, counting objects the GC has
// collected too (so it shows what is allocated, not only what is kept). At exit it writes the
// profile to $ALLOC_OUT (default: alloc.heapprofile in the OS temp folder); summarise it with
// benchmarks/scripts/alloc-summary.mjs. Sampling interval in bytes: $ALLOC_INTERVAL (default 1024).
//   ALLOC_OUT=/tmp/x.heapprofile node --import ./benchmarks/lib/alloc-sampler.mjs benchmarks/scripts/profile-ingest.mjs trusted memory 3
//   node benchmarks/scripts/alloc-summary.mjs /tmp/x.heapprofile 40
// Sampling slows allocation sites down (and can keep V8 from removing some allocations in
// optimised code): compare runs made with it, not with runs made without.
// ALLOC_MINOR=0 leaves out objects the scavenger collected, ALLOC_MAJOR=0 those the mark-compact
// collected (with `--expose-gc` a full collection runs first at exit): with both 0 the profile is
// what is live at the end; with only ALLOC_MINOR=0 it should also hold what was promoted and died
// later. Caution (Node 20): so profiled, objects the trace (`--trace-gc-nvp`) does not see
// promoted are reported as survivors — the profiler's handles seem to keep sampled young objects
// through scavenges — so take promotion figures from the trace, not from this difference.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', {
  samplingInterval: Number(process.env.ALLOC_INTERVAL ?? 1024),
  includeObjectsCollectedByMajorGC: process.env.ALLOC_MAJOR !== '0',
  includeObjectsCollectedByMinorGC: process.env.ALLOC_MINOR !== '0',
});
process.once('beforeExit', () => {
  globalThis.gc?.();
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) throw err;
    writeFileSync(process.env.ALLOC_OUT ?? join(tmpdir(), 'alloc.heapprofile'), JSON.stringify(result.profile));
  });
});

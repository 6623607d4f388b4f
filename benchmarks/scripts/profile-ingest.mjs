// Ingest a 2k-member room of 10k signed PDUs twice (the second pass is the warm figure), for
// profiling one receive mode on one store:
//   node [--cpu-prof] benchmarks/scripts/profile-ingest.mjs single|batch|trusted memory|level|level-journal [REPS [MEMBERS MESSAGES]]
// (MEMBERS MESSAGES: another room than 2,000 joins + 8,000 messages, e.g. 1000 2000 = the engine suite's).
// The room is built once and cached in the OS temp directory. Each pass prints PDUs/s, wall µs per
// event and the main thread's CPU µs per event (/proc/thread-self/schedstat, Linux: unlike wall
// time, it does not grow when other jobs share the cores). REPS (default 2) passes, each into a
// new engine and store. For instruction counts, which are the same whatever else the machine
// does, run it under callgrind with REPS 1 and 2 — the difference is one warm pass:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded \
//     benchmarks/scripts/profile-ingest.mjs trusted memory 2
import { writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64, nodeVerifyHelped, signingKeyFromSeed } from '@roomgraph/crypto';
import { RoomEngine } from '@roomgraph/engine';
import { createMemoryStore } from '@roomgraph/store-memory';
import { StaticKeySource } from '@roomgraph/transport';
import { LevelRoomStore } from '@roomgraph/store-level';
import { mkdtempSync, rmSync } from 'node:fs';
import { roomPdus } from '../lib/room-pdus.mjs';
const kind = process.argv[3] ?? 'memory';
const dirs = [];
// 'level-journal': LevelDB opened as the CLI and the engine suite open it ({ journal: true }).
const mkStore = () => { if (kind === 'memory') return createMemoryStore(); const d = mkdtempSync(join(tmpdir(), 'rg-prof-')); dirs.push(d); return new LevelRoomStore(d, { journal: kind === 'level-journal' }); };
const key = signingKeyFromSeed(new Uint8Array(32).fill(7), 'bench');
const keys = new StaticKeySource({ 'a.example': { [key.keyId]: encodeBase64(key.publicKey) } });
const members = Number(process.argv[5] ?? 2000);
const messages = Number(process.argv[6] ?? 8000);
const F = join(tmpdir(), members === 2000 && messages === 8000 ? 'roomgraph-profile-room.json' : `roomgraph-profile-room-${members}-${messages}.json`);
let pdus;
if (existsSync(F)) pdus = JSON.parse(readFileSync(F, 'utf8'));
else {
  let clock = 1_700_000_000_000;
  const src = await RoomEngine.open({ ownsStore: true, serverName: 'a.example', signingKey: key, store: createMemoryStore(), keys, now: () => (clock += 1) });
  const roomId = await src.createRoom({ roomVersion: '10', creator: '@admin:a.example', preset: 'public_chat' });
  for (let i = 0; i < members; i++) { const u = `@u${i}:a.example`; await src.createLocalEvent(roomId, { type: 'm.room.member', stateKey: u, sender: u, content: { membership: 'join', displayname: `User ${i}` } }); }
  for (let i = 0; i < messages; i++) { const u = `@u${i % members}:a.example`; await src.createLocalEvent(roomId, { type: 'm.room.message', sender: u, content: { msgtype: 'm.text', body: `message ${i} `.repeat(8) } }); }
  pdus = await roomPdus(src, roomId);
  writeFileSync(F, JSON.stringify(pdus));
}
const mode = process.argv[2] ?? 'single';
const reps = Number(process.argv[4] ?? 2);
const threadCpuUs = () => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e3; } catch { return NaN; } };
// [CPU µs, µs runnable but waiting for a core] of every other thread of the process (Linux), by
// thread ID: the busiest one during a pass of batch mode is the verification thread. The rest of
// the pass's wall time it slept: waiting for work (a starved pipeline), whatever else the machine ran.
const mainTid = (() => { try { return readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]; } catch { return ''; } })();
const otherThreadsCpuUs = () => {
  const m = new Map();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      if (t === mainTid) continue;
      try {
        const f = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
        m.set(t, [Number(f[0]) / 1e3, Number(f[1]) / 1e3]);
      } catch { /* exited */ }
    }
  } catch { /* not Linux */ }
  return m;
};
for (let rep = 0; rep < reps; rep++) {
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store: mkStore(), keys });
  const o0 = otherThreadsCpuUs();
  const c0 = threadCpuUs();
  const h0 = nodeVerifyHelped();
  const t0 = performance.now();
  if (mode === 'single') for (const p of pdus) await engine.receivePdu('a.example', p);
  else for (let i = 0; i < pdus.length; i += 100) await engine.receivePdus('a.example', pdus.slice(i, i + 100), { trusted: mode === 'trusted' });
  const ms = performance.now() - t0;
  const cpu = (threadCpuUs() - c0) / pdus.length;
  let busiest = [0, 0];
  for (const [t, [us, wait]] of otherThreadsCpuUs()) {
    const [us0, wait0] = o0.get(t) ?? [0, 0];
    if (us - us0 > busiest[0]) busiest = [us - us0, wait - wait0];
  }
  const pct = (us) => `${((us / (ms * 1000)) * 100).toFixed(0)} %`;
  const other = mode === 'batch' ? `; verification thread ${(busiest[0] / pdus.length).toFixed(1)} us CPU/event: running ${pct(busiest[0])}, waiting for a core ${pct(busiest[1])}, idle ${pct(ms * 1000 - busiest[0] - busiest[1])} of the wall time; ${(((nodeVerifyHelped() - h0) / pdus.length) * 100).toFixed(0)} % of the signatures verified on the main thread` : '';
  await engine.close(); console.log(mode, kind, (pdus.length / ms * 1000).toFixed(0), 'PDUs/s', (ms * 1000 / pdus.length).toFixed(1), 'us/event', cpu.toFixed(1), `us main-thread CPU/event${other}`);
}
for (const d of dirs) rmSync(d, { recursive: true, force: true });

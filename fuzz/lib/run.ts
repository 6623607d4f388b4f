/**
 * A fuzz run: a case budget split over the targets by weight, everything derived from one seed.
 * The CLI targets run as child processes (one per command; ingest one per reference room), the
 * library targets in this process.
 */
import { loadCorpus } from './corpus.js';
import { runCli, streamedLine } from './cli.js';
import type { Finding, TargetStats } from './findings.js';
import { runIngestRoom } from './ingest.js';
import { LIB_TARGETS, type LibTarget, runLibrary } from './library.js';
import { type Sizes, mutatedLine } from './mutate.js';
import { Rng } from './rng.js';

export interface FuzzOptions {
  /** Total number of hostile inputs. */
  readonly cases: number;
  readonly seed: number;
  /** Size of the one oversize line streamed to each CLI command (bytes; 0: none). */
  readonly hugeLine: number;
  readonly sizes: Sizes;
  /** Peak RSS allowed to a CLI child (KiB). */
  readonly maxRssKb: number;
  /** Only these targets (default: all). */
  readonly only?: readonly string[];
  /** How many reference rooms ingest goes through (default: all 60; the smallest room of each version first). */
  readonly ingestRooms?: number;
  readonly log?: (message: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly ms: number;
  readonly targets: Record<string, TargetStats>;
  readonly findings: Finding[];
  /** Peak RSS of the fuzzing process itself (KiB). */
  readonly maxRssKb: number;
}

const SEED_FLAGS = ['--server', 'x', '--key-id', 'ed25519:1', '--seed', 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'];

/** The CLI commands, their flags and the seeds their lines are mutated from. */
const CLI: readonly { name: string; weight: number; argv: (rng: Rng) => string[]; seed: 'pdu' | 'json' | 'auth' | 'stateres' }[] = [
  { name: 'canonicalize', weight: 6, argv: (r) => (r.chance(0.3) ? ['--lenient'] : []), seed: 'json' },
  { name: 'sign', weight: 4, argv: () => SEED_FLAGS, seed: 'pdu' },
  { name: 'verify', weight: 4, argv: () => ['--server', 'example.com', '--key-id', 'ed25519:k1', '--public-key', 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI'], seed: 'pdu' },
  { name: 'content-hash', weight: 4, argv: () => [], seed: 'pdu' },
  { name: 'event-id', weight: 5, argv: (r) => ['--room-version', String(1 + r.int(12))], seed: 'pdu' },
  { name: 'redact', weight: 5, argv: (r) => ['--room-version', String(1 + r.int(12))], seed: 'pdu' },
  { name: 'validate', weight: 5, argv: (r) => ['--room-version', String(1 + r.int(12))], seed: 'pdu' },
  { name: 'room-id', weight: 3, argv: () => ['--room-version', '12'], seed: 'pdu' },
  { name: 'auth-check', weight: 6, argv: () => [], seed: 'auth' },
  { name: 'resolve', weight: 1, argv: () => [], seed: 'stateres' },
];
const INGEST_WEIGHT = 8;
const LIB_WEIGHTS: Record<LibTarget, number> = { 'lib:canonical-json': 10, 'lib:events': 14, 'lib:auth': 10, 'lib:state-res': 2, 'lib:crypto': 4 };

/** Runs the fuzzer. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const corpus = loadCorpus();
  const root = new Rng(o.seed);
  const findings: Finding[] = [];
  const targets: Record<string, TargetStats> = {};
  const log = o.log ?? (() => undefined);
  const want = (t: string): boolean => o.only === undefined || o.only.includes(t);
  const total = CLI.reduce((a, c) => a + c.weight, 0) + INGEST_WEIGHT + Object.values(LIB_WEIGHTS).reduce((a, b) => a + b, 0);
  const budget = (w: number): number => Math.max(1, Math.round((o.cases * w) / total));

  for (const c of CLI) {
    const rng = root.fork();
    const t = `cli:${c.name}`;
    if (!want(t)) continue;
    const n = budget(c.weight);
    const seedOf = (r: Rng): unknown => {
      switch (c.seed) {
        case 'json': return r.chance(0.3) ? JSON.parse(r.pick(corpus.jsonTexts)) as unknown : r.pick(corpus.pdus).pdu;
        case 'auth': { const a = r.pick(corpus.auth); return { room_version: a.room_version, event: a.event, auth_events: a.auth_events, ...(r.chance(0.5) && a.server_keys !== undefined ? { server_keys: a.server_keys } : {}) }; }
        case 'stateres': { const s = r.pick(corpus.stateres); return { room_version: s.room_version, events: s.events, state_sets: s.state_sets }; }
        default: return r.pick(corpus.pdus).pdu;
      }
    };
    const hugeAt = o.hugeLine > 0 ? rng.int(n) : -1;
    async function* cases(): AsyncIterable<Uint8Array | AsyncIterable<Uint8Array>> {
      for (let i = 0; i < n; i++) {
        if (i === hugeAt) yield streamedLine(o.hugeLine);
        else yield mutatedLine(rng, seedOf(rng), o.sizes);
      }
    }
    log(`${t}: ${n} cases…`);
    targets[t] = await runCli({ target: t, argv: [c.name, ...c.argv(rng)], cases: cases(), timeoutMs: 120_000 + n * 20, maxRssKb: o.maxRssKb }, findings);
    log(`${t}: ${Math.round(targets[t].ms)} ms, peak RSS ${Math.round((targets[t].maxRssKb ?? 0) / 1024)} MiB`);
  }

  // Every target's generator is forked from the root in a fixed order, run or not: a target run
  // alone (--only) sees exactly the cases it sees in a full run with the same seed and size.
  const ingestRng = root.fork();
  if (want('cli:ingest')) {
    const rng = ingestRng;
    const n = budget(INGEST_WEIGHT);
    const stats: TargetStats = { cases: 0, ms: 0, codes: {} };
    const t1 = performance.now();
    // The smallest room of each room version first, then the others.
    const byVersion = new Map<string, typeof corpus.rooms[number]>();
    for (const r of [...corpus.rooms].sort((a, b) => a.events.length - b.events.length)) if (!byVersion.has(r.room_version)) byVersion.set(r.room_version, r);
    const order = [...byVersion.values(), ...corpus.rooms.filter((r) => ![...byVersion.values()].includes(r))];
    const rooms = order.slice(0, o.ingestRooms ?? order.length);
    const perRoom = Math.max(1, Math.ceil(n / rooms.length));
    log(`cli:ingest: ${perRoom} hostile lines in each of ${rooms.length} rooms…`);
    for (const room of rooms) {
      if (stats.cases >= n) break;
      await runIngestRoom(rng, room, corpus.pdus, Math.min(perRoom, n - stats.cases), o.sizes, stats, findings, o.maxRssKb);
    }
    stats.ms = performance.now() - t1;
    targets['cli:ingest'] = stats;
    log(`cli:ingest: ${Math.round(stats.ms)} ms`);
  }

  for (const t of LIB_TARGETS) {
    const rng = root.fork();
    if (!want(t)) continue;
    const n = budget(LIB_WEIGHTS[t]);
    log(`${t}: ${n} cases…`);
    targets[t] = runLibrary(t, rng, corpus, n, o.sizes, findings);
    log(`${t}: ${Math.round(targets[t].ms)} ms`);
  }

  return {
    seed: o.seed,
    cases: Object.values(targets).reduce((a, s) => a + s.cases, 0),
    ms: performance.now() - t0,
    targets,
    findings,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

/** The report as a table (for the console and fuzz/README.md). */
export function formatReport(r: FuzzReport): string {
  const rows = Object.entries(r.targets).map(([t, s]) => {
    const top = Object.entries(s.codes).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, n]) => `${c} ${n}`).join(', ');
    return `| ${t} | ${s.cases} | ${(s.ms / 1000).toFixed(1)} | ${s.maxRssKb !== undefined ? Math.round(s.maxRssKb / 1024) : '–'} | ${top} |`;
  });
  return [
    `seed ${r.seed}: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s; fuzzer peak RSS ${Math.round(r.maxRssKb / 1024)} MiB; ${r.findings.length} findings`,
    '',
    '| target | cases | seconds | child peak RSS (MiB) | most frequent outcomes |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    ...(r.findings.length > 0 ? ['', 'Findings:', ...r.findings.map((f) => `- ${f.target} ${f.kind}: ${f.detail}${f.input !== undefined ? `\n  input: ${f.input.slice(0, 400)}` : ''}`)] : []),
  ].join('\n');
}

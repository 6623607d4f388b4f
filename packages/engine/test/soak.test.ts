/**
 * Soak: a long ingest across many rooms keeps the engine's heap flat. Every engine cache is bounded
 * (`src/caches.ts`); with small bounds, 140 rooms hold no more engine heap than 20 rooms do. The
 * measure runs in a child process with `--expose-gc` (`soak/heap.mjs`): heap after GC with the
 * engine minus heap after GC once the engine is closed and dropped — the memory store, which holds
 * the data itself, stays. A control run with the default (large) bounds shows the measure sees a
 * growing cache: there the engine's heap grows with the events it has seen. No timing is involved.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const soakDir = fileURLToPath(new URL('./soak/', import.meta.url));
// The TypeScript-source module hooks the store-level crash child and the PostgreSQL process tests use.
const register = fileURLToPath(new URL('../../store-level/test/crash/register.mjs', import.meta.url));
const SMALL = 20;
const LARGE = 140;
const KiB = 1024;

interface SoakResult { readonly rooms: number; readonly events: number; readonly engineRetained: number; readonly heapWithStore: number; readonly statuses: Record<string, number> }

function soak(caches: 'bounded' | 'default'): Promise<SoakResult[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', register, 'heap.mjs', String(SMALL), String(LARGE)], {
      cwd: soakDir, env: { ...process.env, SOAK_CACHES: caches }, maxBuffer: 1 << 20,
    }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`soak child failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as SoakResult[]);
    });
  });
}

describe('soak: many rooms on the memory store', () => {
  it(`the engine's heap stays flat from ${SMALL} to ${LARGE} rooms with bounded caches; with large bounds it grows`, async () => {
    const [bounded, control] = await Promise.all([soak('bounded'), soak('default')]);
    for (const runs of [bounded, control]) {
      for (const r of runs) expect(r.statuses).toEqual({ accepted: r.events });
    }
    const [b1, b2] = bounded as [SoakResult, SoakResult];
    const [c1, c2] = control as [SoakResult, SoakResult];
    // The data itself grows (the store holds it): the runs did ingest 7× the events.
    expect(b2.heapWithStore - b1.heapWithStore).toBeGreaterThan(4 * 1024 * KiB);
    // Bounded caches: the engine holds no more after 140 rooms than after 20 (measured: ±0.2 MiB of noise).
    expect(b2.engineRetained - b1.engineRetained, JSON.stringify(bounded)).toBeLessThan(512 * KiB);
    expect(b2.engineRetained, JSON.stringify(bounded)).toBeLessThan(2 * 1024 * KiB);
    // The control: with the default bounds (50,000 events…) nothing is evicted yet, and the same
    // measure sees the engine's caches grow with the events (measured: ~2 MiB).
    expect(c2.engineRetained - c1.engineRetained, JSON.stringify(control)).toBeGreaterThan(1024 * KiB);
  }, 180_000);
});

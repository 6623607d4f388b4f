import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '@roomgraph/cli';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdin: '', stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

describe('roomgraph demo', () => {
  it.each(['1', '3', '10', '12'])('room version %s: two servers fork, heal, merge and converge on LevelDB', async (v) => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-demo-'));
    try {
      const r = await run(['demo', '--room-version', v, '--store', dir]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`room version ${v}`);
      expect(r.out).toContain('merge event');
      expect(r.out).toMatch(/converged: yes/);
      // Both forks were accepted on the other side, and the merge collapsed the extremities to one.
      expect(r.out).toContain("b.example received a's fork: accepted, accepted (get_missing_events ×1)");
      expect(r.out).toContain("a.example received b's fork: accepted, accepted (get_missing_events ×1)");
      // Bob's server joined with the federation handshake and backfilled the room's history.
      expect(r.out).toMatch(/make_join ×1, send_join ×1: bob's join \S+ accepted/);
      expect(r.out).toContain('a.example sees bob as: join');
      expect(r.out).toMatch(/backfill ×1 from the join to the create event: (\d+) older events, \1 accepted/);
      expect(r.out).toMatch(/a\.example: 8 state entries; extremities \S+$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('says where its stores are; removes the temporary folder it made, keeps a --store folder', async () => {
    const r = await run(['demo']);
    expect(r.code).toBe(0);
    const m = /removed the temporary stores in (\S+)$/m.exec(r.out);
    expect(m).not.toBeNull();
    expect(r.out).toContain(`LevelDB stores in ${join(m![1]!, 'a.example')} and ${join(m![1]!, 'b.example')}`);
    expect(existsSync(m![1]!)).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'rg-demo-kept-'));
    try {
      const k = await run(['demo', '--store', dir]);
      expect(k.out).toContain(`the stores are kept: look inside with roomgraph state --store ${join(dir, 'a.example')}`);
      expect(existsSync(join(dir, 'a.example', 'CURRENT'))).toBe(true);
      const state = await run(['state', '--store', join(dir, 'a.example')]);
      expect(state.code).toBe(0);
      expect(Object.keys(JSON.parse(state.out) as object)).toContain('m.room.topic');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects an unknown room version with a typed error', async () => {
    const r = await run(['demo', '--room-version', '99']);
    expect(r.code).toBe(2);
    // The library's code (one vocabulary: the CLI says what the library says).
    expect(JSON.parse(r.err).error.code).toBe('ROOM_VERSION_UNKNOWN');
  });
});

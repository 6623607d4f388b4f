import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelRoomStore } from '@roomgraph/store-level';
import { runAndKill, tempRoot } from './helpers.js';

const root = tempRoot('crash');

async function checkConsistent(dir: string, acked: readonly string[], postCommit: boolean): Promise<number> {
  const store = new LevelRoomStore(dir);
  await store.open();
  try {
    const have = await store.hasEvents(acked);
    expect(acked.filter((id) => !have.has(id))).toEqual([]);
    const room = (await store.getRoom('!crash:example.org'))!;
    expect(room).toBeDefined();
    const timeline = await store.timeline(room.roomId, { limit: 1_000_000 });
    expect(timeline.length).toBe(room.lastStream);
    expect(timeline.map((e) => e.stream)).toEqual(timeline.map((_, i) => i + 1));
    // At most the one in-flight commit may be present without having been acknowledged.
    expect(timeline.length - acked.length).toBeGreaterThanOrEqual(0);
    expect(timeline.length - acked.length).toBeLessThanOrEqual(2); // ≤ one in-flight commit per killed run
    expect((await store.hasEvents(room.forwardExtremities)).size).toBe(room.forwardExtremities.length);
    const current = await store.loadState(room.currentState!);
    const members = timeline.filter((e) => e.status === 'accepted' && e.type === 'm.room.member');
    // Current state = create + 3000 base members + one entry per accepted member event.
    expect(current.size).toBe(1 + 3000 + members.length);
    for (const e of timeline) {
      if (e.status === 'outlier') {
        expect(e.stateBefore).toBeUndefined();
        continue;
      }
      const info = await store.snapshotInfo(e.stateBefore!);
      expect(info).toBeDefined();
    }
    // Spot-check state-before contents: event $e<i> sees exactly the members before it.
    for (const e of members.filter((_, i) => i % 17 === 0)) {
      const [own, prevOne] = await store.getStateEntries(e.stateBefore!, [`14:m.room.member${e.stateKey!}`, `13:m.room.create`]);
      expect(own).toBeUndefined();
      expect(prevOne).toBe('$create');
      const before = await store.loadState(e.stateBefore!);
      expect(before.size).toBe(1 + 3000 + members.indexOf(e));
    }
    if (!postCommit) return timeline.length;
    // Counters are ahead of every used ID: a new snapshot gets a fresh ID and old content stays.
    const snapshotBefore = new Map(current);
    const r = await store.commit({
      roomId: room.roomId,
      event: { event: { ...timeline[0]!, eventId: `$post${timeline.length}`, roomId: room.roomId, sender: '', originServerTs: 0, content: {}, redacts: undefined }, status: 'accepted', stateBefore: { ref: 'n' } },
      snapshots: [{ ref: 'n', parent: null, changes: { set: [['x', '$y']] } }],
    });
    expect((await store.snapshotInfo(r.snapshots.get('n')!))!.depth).toBe(0);
    expect(new Map(await store.loadState(room.currentState!))).toEqual(snapshotBefore);
    return timeline.length;
  } finally {
    await store.close();
  }
}

describe('store-level crash safety (SIGKILL mid-ingest)', () => {
  it('keeps every acknowledged commit and nothing half-written, across repeated kills', async () => {
    const dir = join(root, 'db');
    const first = await runAndKill(dir, 400);
    expect(first.length).toBeGreaterThanOrEqual(400);
    const n1 = await checkConsistent(dir, first, false);
    // Second round resumes on the recovered store and is killed again.
    const second = await runAndKill(dir, 300);
    expect(second.length).toBeGreaterThanOrEqual(300);
    const n2 = await checkConsistent(dir, [...first, ...second], true);
    expect(n2).toBeGreaterThanOrEqual(n1 + 300);
  }, 120_000);

  it('survives a kill shortly after start (during the first big commits)', async () => {
    const dir = join(root, 'db-early');
    const acked = await runAndKill(dir, 3);
    await checkConsistent(dir, acked, true);
  }, 120_000);
});

/**
 * Test set-up shared by the LevelDB store's durability tests (group commit, journal, crash
 * safety): a temporary folder per test file, a store that records (and can fail or hold) its
 * LevelDB write groups, a room with a create event and messages to commit in it, and the crash
 * writer (`crash/child.mjs`) run until it has acknowledged some commits, then killed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { RoomCommit, SnapshotId, StoreWriteBatch } from '@roomgraph/store';
import { fakeEvent } from '@roomgraph/store/conformance';
import { LevelRoomStore } from '@roomgraph/store-level';

/** The room {@link createRoom} creates and {@link message} commits to. */
export const ROOM = '!room:example.org';

/** A new temporary folder named `roomgraph-<prefix>-…`, removed after the calling test file's tests. */
export function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), `roomgraph-${prefix}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** Records the LevelDB write groups (their sizes); fails them while `failing`; holds them while `hold` is set. */
export class ProbeStore extends LevelRoomStore {
  failing = false;
  hold: Promise<void> | undefined;
  readonly groups: number[] = [];
  /** Groups whose write has finished. */
  written = 0;
  protected override async _writeGroup(batches: readonly StoreWriteBatch[]): Promise<void> {
    this.groups.push(batches.length);
    if (this.hold !== undefined) await this.hold;
    if (this.failing) throw new Error('disk full');
    await super._writeGroup(batches);
    this.written++;
  }
}

/** A journaled {@link ProbeStore} in `dir`, opened, with {@link ROOM} created; `s`: the create event's state-after snapshot. */
export async function journaledRoom(dir: string): Promise<{ readonly store: ProbeStore; readonly s: SnapshotId }> {
  const store = new ProbeStore(dir, { journal: true });
  await store.open();
  return { store, s: await createRoom(store) };
}

/**
 * A journaled {@link ProbeStore} in `dir` with {@link ROOM} created and its create event in
 * LevelDB, the writer then held: commits from here on are journaled but reach LevelDB only after
 * `release()` (as a killed process would leave them). `s`: the create event's state-after snapshot.
 */
export async function heldJournalStore(dir: string): Promise<{ readonly store: ProbeStore; readonly s: SnapshotId; readonly release: () => void }> {
  const { store, s } = await journaledRoom(dir);
  await store.timeline(ROOM); // the create event is in LevelDB, the journal empty
  let release = (): void => undefined;
  store.hold = new Promise<void>((r) => { release = r; });
  return { store, s, release };
}

/** An accepted message `id` of {@link ROOM} after `prev`, becoming the only forward extremity. */
export function message(id: string, prev: string, depth: number, stateBefore: SnapshotId): RoomCommit {
  return { roomId: ROOM, event: { event: fakeEvent(id, { prev: [prev], auth: ['$create'], depth }), status: 'accepted', stateBefore }, forwardExtremities: [id] };
}

/** Creates {@link ROOM} (create event `$create`); returns the snapshot of its state after the create event. */
export async function createRoom(store: LevelRoomStore): Promise<SnapshotId> {
  const r = await store.commit({
    roomId: ROOM,
    createRoom: { roomVersion: '12', createEventId: '$create' },
    event: { event: fakeEvent('$create', { type: 'm.room.create', stateKey: '' }), status: 'accepted', stateBefore: { ref: 'b' } },
    snapshots: [{ ref: 'b', parent: null, changes: {} }, { ref: 'a', parent: { ref: 'b' }, changes: { set: [['c', '$create']] } }],
    forwardExtremities: ['$create'],
    currentState: { ref: 'a' },
  });
  return r.snapshots.get('a')!;
}

const crashDir = fileURLToPath(new URL('./crash/', import.meta.url));

/**
 * Runs the crash writer (`crash/child.mjs`) on the store in `dir` (with `args` after it) until it
 * has acknowledged `ackTarget` commits, then SIGKILLs it; resolves with the IDs it acknowledged.
 */
export function runAndKill(dir: string, ackTarget: number, args: readonly string[] = []): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', './register.mjs', 'child.mjs', dir, ...args], { cwd: crashDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let buf = '';
    let err = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        acked.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (!killed && acked.length >= ackTarget) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolvePromise(acked);
      else reject(new Error(`child exited ${code} ${signal}: ${err}`));
    });
  });
}

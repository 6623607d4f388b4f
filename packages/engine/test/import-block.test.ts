// Trusted block import (receipt/import-block.ts) against the per-event pipeline: on generated rooms
// (forks, merges, state conflicts) with injected events that are rejected (strangers, unauthorised
// state) or soft-failed (senders that have since left or been banned), importing with
// `receivePdus(..., { trusted: true })` in blocks must give exactly what the per-event path gives:
// outcomes, stored records (status, rejection, stream), the state before and after every event,
// the forward extremities, the current state, and the notifications, in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { encodeBase64, signingKeyFromSeed } from '@roomgraph/crypto';
import { type RoomEvent, buildEvent, selectAuthEvents, stateKeyOf } from '@roomgraph/events';
import type { RoomStore } from '@roomgraph/store';
import { createMemoryStore } from '@roomgraph/store-memory';
import { LevelRoomStore } from '@roomgraph/store-level';
import { type RoomDag, propertyRuns, roomDag } from '@roomgraph/testkit';
import { StaticKeySource } from '@roomgraph/transport';
import { type EngineNotification, RoomEngine } from '../src/index.js';
import { type Flat, MAX_FLAT_CHAIN, extendFlat, flatGet } from '../src/receipt/import-block.js';
import { withoutCommitMany } from './harness.js';

/** The longest run of consecutive state events in any of the rooms (in their event order). */
function longestStateRun(rooms: readonly RoomDag[]): number {
  let best = 0;
  for (const dag of rooms) {
    let run = 0;
    for (const e of dag.events) {
      run = e.stateKey !== undefined ? run + 1 : 0;
      best = Math.max(best, run);
    }
  }
  return best;
}

const signer = { serverName: 'z.example', key: signingKeyFromSeed(new Uint8Array(32).fill(9), 'z') };

/** An event injected into a generated room's history. */
interface Injection {
  /** The prev event: index into the sequence so far. */
  readonly from: number;
  /** Where it goes: after its prev event, this many places further (mod what is left). */
  readonly at: number;
  /**
   * stranger: a message by a user never in the room; member: a message by a DAG user; topic: a
   * state event by a DAG user; join: the stranger joins; reply: a message by a DAG user (odd
   * `user`: the stranger) on the previous injected event.
   */
  readonly kind: 'stranger' | 'member' | 'topic' | 'join' | 'reply';
  readonly user: number;
}

const injection: fc.Arbitrary<Injection> = fc.record({
  from: fc.nat({ max: 1000 }),
  at: fc.nat({ max: 1000 }),
  kind: fc.constantFrom('stranger' as const, 'member' as const, 'topic' as const, 'join' as const, 'reply' as const),
  user: fc.nat({ max: 5 }),
});

/** The DAG's PDUs in order with the injected events inserted (auth events chosen from the state at their prev event). */
function sequenceOf(dag: RoomDag, injections: readonly Injection[]): JsonObject[] {
  const byId = new Map<string, RoomEvent>(dag.eventsById);
  const stateAt = new Map<string, ReadonlyMap<string, string>>(dag.stateAfter);
  const seq: RoomEvent[] = dag.events.map((e) => dag.pdus!.get(e.eventId)!);
  let n = 0;
  let last: string | undefined;
  for (const inj of injections) {
    // Never before the create event.
    const replyTo = inj.kind === 'reply' && last !== undefined ? seq.findIndex((e) => e.eventId === last) : -1;
    const from = replyTo >= 0 ? replyTo : 1 + (inj.from % (seq.length - 1));
    const prev = seq[from]!;
    const state = stateAt.get(prev.eventId)!;
    const stranger = '@mallory:z.example';
    const sender = inj.kind === 'stranger' || inj.kind === 'join' || (inj.kind === 'reply' && inj.user % 2 === 1) ? stranger : dag.users[inj.user % dag.users.length]!;
    const [type, stateKey, content]: [string, string | undefined, JsonObject] = inj.kind === 'topic' ? ['m.room.topic', '', { topic: `injected ${n}` }]
      : inj.kind === 'join' ? ['m.room.member', stranger, { membership: 'join' }]
      : ['m.room.message', undefined, { body: `injected ${n}` }];
    const lookup = { get: (t: string, k: string) => { const id = state.get(stateKeyOf(t, k)); return id === undefined ? undefined : byId.get(id); } };
    const auth = selectAuthEvents({ type, stateKey, sender, content }, lookup, dag.rules);
    const pdu = buildEvent({
      roomVersion: dag.rules, type, ...(stateKey !== undefined ? { stateKey } : {}), sender, content,
      prevEvents: [prev], authEvents: auth.map((a) => byId.get(a)!), depth: prev.depth + 1,
      originServerTs: 1_800_000_000_000 + n, roomId: dag.roomId,
    }, signer);
    n++;
    byId.set(pdu.eventId, pdu);
    last = pdu.eventId;
    const after = new Map(state);
    if (stateKey !== undefined) after.set(stateKeyOf(type, stateKey), pdu.eventId);
    stateAt.set(pdu.eventId, after);
    const at = from + 1 + (inj.at % (seq.length - from));
    seq.splice(at, 0, pdu);
  }
  return seq.map((e) => e.json);
}

/** The store, counting the events committed through `commitMany` (the block path) in `counter.n`. */
function counting(store: RoomStore, counter: { n: number }): RoomStore {
  return new Proxy(store, {
    get(target, p) {
      const v: unknown = Reflect.get(target, p, target);
      if (p === 'commitMany') {
        return async (commits: Parameters<NonNullable<RoomStore['commitMany']>>[0], options?: Parameters<NonNullable<RoomStore['commitMany']>>[1]) => {
          counter.n += commits.length;
          return target.commitMany!(commits, options);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

interface Observed {
  readonly outcomes: unknown;
  readonly records: unknown;
  readonly states: unknown;
  readonly extremities: unknown;
  readonly current: unknown;
  readonly notifications: readonly EngineNotification[];
}

/**
 * Imports `pdus` — trusted, or (with `keys`) as received PDUs with every check — `blocks` PDUs per
 * call (1: one `receivePdu` per PDU), and reads back everything observable.
 */
async function importAll(store: RoomStore, roomId: string, pdus: readonly JsonObject[], blocks: number, keys?: StaticKeySource): Promise<Observed> {
  const engine = await RoomEngine.open({ ownsStore: true, serverName: 'b.example', store, keys: keys ?? new StaticKeySource({}) });
  const notifications: EngineNotification[] = [];
  engine.subscribe((n) => notifications.push(n));
  try {
    const outcomes = [];
    if (keys !== undefined && blocks === 1) for (const p of pdus) outcomes.push(await engine.receivePdu('z.example', p));
    else for (let i = 0; i < pdus.length; i += blocks) outcomes.push(...await engine.receivePdus('z.example', pdus.slice(i, i + blocks), { trusted: keys === undefined }));
    const timeline = await engine.timeline(roomId, { limit: 10_000 });
    const states: unknown[] = [];
    for (const e of timeline) {
      if (e.status === 'outlier') continue;
      states.push([e.eventId, (await engine.stateAt(e.eventId)).toJSON(), (await engine.stateAt(e.eventId, { after: true })).toJSON()]);
    }
    return {
      outcomes,
      records: timeline.map((e) => [e.eventId, e.status, e.rejection, e.stream]),
      states,
      extremities: await engine.forwardExtremities(roomId),
      current: (await engine.currentState(roomId)).toJSON(),
      notifications,
    };
  } finally {
    await engine.close();
  }
}

type Kind = 'memory' | 'level';

async function withStores<T>(kind: Kind, fn: (a: RoomStore, b: RoomStore) => Promise<T>): Promise<T> {
  if (kind === 'memory') return fn(createMemoryStore(), createMemoryStore());
  const dir = mkdtempSync(join(tmpdir(), 'rg-import-block-'));
  try {
    return await fn(new LevelRoomStore(join(dir, 'a'), { journal: true }), new LevelRoomStore(join(dir, 'b')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("a block's chained snapshots (Flat)", () => {
  it('answer every key as applying their changes in order would, across the copies into one map', () => {
    const keys = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const overlay = fc.array(fc.tuple(keys, fc.option(fc.constantFrom('$1', '$2', '$3', '$4'), { nil: null })), { maxLength: 3 }).map((xs) => new Map(xs));
    fc.assert(
      fc.property(fc.array(overlay, { minLength: 1, maxLength: MAX_FLAT_CHAIN * 3, size: 'max' }), (overlays) => {
        const model = new Map<string, string | null>();
        let flat: Flat | undefined;
        for (const o of overlays) {
          flat = extendFlat(flat, flat === undefined ? 7 : null, o);
          for (const [k, v] of o) model.set(k, v);
          expect(flat.root).toBe(7);
          expect(flat.depth).toBeLessThanOrEqual(MAX_FLAT_CHAIN);
          for (const k of ['a', 'b', 'c', 'd', 'e']) expect(flatGet(flat, k)).toBe(model.get(k));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('trusted block import gives exactly what the per-event path gives', () => {
  for (const kind of ['memory', 'level'] as const) {
    for (const [i, v] of ['1', '10', '12'].entries()) {
      it(`${kind} store, room version ${v}: outcomes, records, states, extremities, current state, notifications`, async () => {
        const statuses = new Set<string>();
        const counter = { n: 0 };
        await fc.assert(fc.asyncProperty(
          roomDag({ roomVersions: v, ids: 'real', maxActions: 24 }),
          fc.array(injection, { maxLength: 8 }),
          fc.integer({ min: 2, max: 60 }),
          async (dag, injections, blocks) => {
            const pdus = sequenceOf(dag, injections);
            await withStores(kind, async (a, b) => {
              const fast = await importAll(counting(a, counter), dag.roomId, pdus, blocks);
              const slow = await importAll(withoutCommitMany(b), dag.roomId, pdus, 1);
              expect(fast).toEqual(slow);
              for (const o of fast.outcomes as { status: string }[]) statuses.add(o.status);
            });
          },
        ), { numRuns: propertyRuns(kind === 'memory' ? 25 : 10), seed: (kind === 'memory' ? 1100 : 1300) + i });
        // The generated rooms reach the interesting outcomes, and most events go by blocks.
        expect([...statuses]).toEqual(expect.arrayContaining(['accepted', 'rejected', 'soft-failed']));
        expect(counter.n).toBeGreaterThan(50);
      }, 120_000);
    }
  }

  it('long runs of state events in one block (snapshots of the block chained past the point where they are copied into one map)', async () => {
    const rooms = fc.sample(roomDag({ roomVersions: '10', ids: 'real', minActions: 70, maxActions: 90, kinds: ['join', 'leave', 'power', 'joinRule', 'kick', 'invite'] }), { numRuns: 3, seed: 11 });
    for (const dag of rooms) {
      const pdus = dag.events.map((e) => dag.pdus!.get(e.eventId)!.json);
      await withStores('memory', async (a, b) => {
        const counter = { n: 0 };
        const fast = await importAll(counting(a, counter), dag.roomId, pdus, pdus.length);
        const slow = await importAll(withoutCommitMany(b), dag.roomId, pdus, 1);
        expect(fast).toEqual(slow);
        // Most of the room went by blocks, and some block held a run of state events longer than a chain.
        expect(counter.n).toBeGreaterThan(pdus.length / 2);
      });
    }
    expect(longestStateRun(rooms)).toBeGreaterThan(MAX_FLAT_CHAIN + 1);
  });

  it('a trusted block with bad input drops what is bad, stores the rest, and the store stays consistent', async () => {
    const dag = fc.sample(roomDag({ roomVersions: '10', ids: 'real', minActions: 10, maxActions: 16, kinds: ['join', 'message', 'topic'] }), { numRuns: 1, seed: 7 })[0]!;
    const good = dag.events.map((e) => dag.pdus!.get(e.eventId)!.json);
    const hostile: unknown[] = [...good];
    // Garbage, a repeated event, a PDU of an unknown room and a truncated copy, in the middle of the run.
    hostile.splice(5, 0, null, 'x', good[3], { ...good[4], room_id: '!elsewhere:x.example' }, { ...good[6], depth: 'deep' });
    await withStores('memory', async (a, b) => {
      const counter = { n: 0 };
      const fast = await importAll(counting(a, counter), dag.roomId, hostile as JsonObject[], hostile.length);
      const slow = await importAll(withoutCommitMany(b), dag.roomId, hostile as JsonObject[], 1);
      expect(fast).toEqual(slow);
      const statuses = (fast.outcomes as { status: string }[]).map((o) => o.status);
      expect(statuses.filter((s) => s === 'dropped').length).toBe(4);
      expect(statuses.filter((s) => s === 'accepted').length).toBe(good.length + 1);
      expect(counter.n).toBeGreaterThan(good.length / 2);
    });
  });
});

/** How a received PDU is spoiled: a signature that does not verify, one by an unknown key, or content changed after signing. */
type Spoil = 'signature' | 'key' | 'content';

function spoil(json: JsonObject, how: Spoil): JsonObject {
  const sigs = json['signatures'] as Record<string, Record<string, string>>;
  const [server] = Object.keys(sigs);
  const mine = sigs[server!]!;
  const [keyId] = Object.keys(mine);
  const sig = mine[keyId!]!;
  if (how === 'content') return { ...json, content: { ...(json['content'] as JsonObject), x_spoiled: true } };
  const other = how === 'signature' ? { [keyId!]: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) } : { 'ed25519:unknown': sig };
  return { ...json, signatures: { ...sigs, [server!]: other } };
}

/** The verify keys of the generated rooms' servers and of the injections' signer. */
function keysOf(dag: RoomDag): StaticKeySource {
  const record: Record<string, Record<string, string>> = { 'z.example': { [signer.key.keyId]: encodeBase64(signer.key.publicKey) } };
  for (const server of ['a.example', 'b.example', 'c.example']) {
    const k = dag.keyLookup?.(server, 'ed25519:testkit');
    if (k !== undefined) record[server] = { 'ed25519:testkit': encodeBase64(k.publicKey) };
  }
  return new StaticKeySource(record);
}

describe('received PDUs by blocks (receivePdus, or receivePdu as a block of one) give exactly what the per-event pipeline gives', () => {
  for (const kind of ['memory', 'level'] as const) {
    for (const [i, v] of ['1', '10', '12'].entries()) {
      it(`${kind} store, room version ${v}: with bad signatures, unknown keys and changed content mixed in`, async () => {
        const statuses = new Set<string>();
        const counter = { n: 0 };
        let redacted = 0;
        await fc.assert(fc.asyncProperty(
          roomDag({ roomVersions: v, ids: 'real', maxActions: 24 }),
          fc.array(injection, { maxLength: 6 }),
          fc.array(fc.tuple(fc.nat({ max: 1000 }), fc.constantFrom<Spoil>('signature', 'key', 'content')), { maxLength: 4 }),
          // 1: one receivePdu per PDU, each a block of one.
          fc.integer({ min: 1, max: 60 }),
          async (dag, injections, spoils, blocks) => {
            const pdus = sequenceOf(dag, injections);
            // Never the create event (nothing after it would be known).
            for (const [at, how] of spoils) {
              const j = 1 + (at % (pdus.length - 1));
              pdus[j] = spoil(pdus[j]!, how);
            }
            const keys = keysOf(dag);
            await withStores(kind, async (a, b) => {
              const fast = await importAll(counting(a, counter), dag.roomId, pdus, blocks, keys);
              const slow = await importAll(withoutCommitMany(b), dag.roomId, pdus, 1, keys);
              expect(fast).toEqual(slow);
              for (const o of fast.outcomes as { status: string; redactedOnReceipt?: boolean }[]) {
                statuses.add(o.status);
                if (o.redactedOnReceipt === true) redacted++;
              }
            });
          },
        ), { numRuns: propertyRuns(kind === 'memory' ? 25 : 10), seed: (kind === 'memory' ? 2100 : 2300) + i });
        // Dropped PDUs leave their children waiting (parked), so rooms end on the per-event path
        // more often than in the trusted test, which covers soft failure on the block path.
        expect([...statuses]).toEqual(expect.arrayContaining(['accepted', 'rejected', 'dropped', 'parked']));
        expect(redacted).toBeGreaterThan(0);
        expect(counter.n).toBeGreaterThan(30);
      }, 180_000);
    }
  }
});

/** Builds a room's v10 events in order (`make`: type, state key, sender, content, auth events, prev event), signed by z.example; `events` holds them. */
function eventMaker(roomId: string): { readonly events: RoomEvent[]; readonly make: (type: string, stateKey: string | undefined, sender: string, content: JsonObject, auth: readonly RoomEvent[], prev: RoomEvent | undefined) => RoomEvent } {
  let ts = 1_800_000_000_000;
  const events: RoomEvent[] = [];
  const make = (type: string, stateKey: string | undefined, sender: string, content: JsonObject, auth: readonly RoomEvent[], prev: RoomEvent | undefined): RoomEvent => {
    const e = buildEvent({
      roomVersion: '10', type, ...(stateKey !== undefined ? { stateKey } : {}), sender, content,
      prevEvents: prev === undefined ? [] : [prev], authEvents: auth, depth: (prev?.depth ?? 0) + 1, originServerTs: ts++, roomId,
    }, signer);
    events.push(e);
    return e;
  };
  return { events, make };
}

describe('check 5 on the block path (auth events other than the ones the state before selects)', () => {
  /**
   * A room of z.example users in which `@bob` joins and is then banned, `@carol` joins and then
   * changes her display name, and the power levels are replaced; then, on the ban: Alice's message
   * citing what the state before selects (check 5 skipped), Bob's message citing his join (check 4
   * passes; check 5 — against the state before, where Bob is banned — rejects; skipping check 5
   * would soft-fail it instead), Carol's message citing her first join (check 5 runs and allows —
   * reading the state before without her newer member event, which with 3 PDUs per call is stored
   * by an earlier call and cited by no event of the block, would reject it), and Alice's topic
   * citing the first power levels (check 5 runs and allows).
   */
  function roomWithStaleAuth(): { readonly roomId: string; readonly pdus: readonly JsonObject[] } {
    const roomId = '!stale:z.example';
    const alice = '@alice:z.example';
    const bob = '@bob:z.example';
    const carol = '@carol:z.example';
    const { events, make } = eventMaker(roomId);
    const create = make('m.room.create', '', alice, { creator: alice, room_version: '10' }, [], undefined);
    const aliceJoin = make('m.room.member', alice, alice, { membership: 'join' }, [create], create);
    const pl = make('m.room.power_levels', '', alice, { users: { [alice]: 100 }, ban: 50, state_default: 50, events_default: 0 }, [create, aliceJoin], aliceJoin);
    const rules = make('m.room.join_rules', '', alice, { join_rule: 'public' }, [create, aliceJoin, pl], pl);
    const bobJoin = make('m.room.member', bob, bob, { membership: 'join' }, [create, pl, rules], rules);
    const carolJoin = make('m.room.member', carol, carol, { membership: 'join' }, [create, pl, rules], bobJoin);
    const carolRename = make('m.room.member', carol, carol, { membership: 'join', displayname: 'Carol' }, [create, pl, rules, carolJoin], carolJoin);
    const pl2 = make('m.room.power_levels', '', alice, { users: { [alice]: 100 }, ban: 50, state_default: 50, events_default: 0, events: { 'm.room.topic': 50 } }, [create, aliceJoin, pl], carolRename);
    const ban = make('m.room.member', bob, alice, { membership: 'ban' }, [create, aliceJoin, pl2, bobJoin], pl2);
    const aliceMsg = make('m.room.message', undefined, alice, { body: 'welcome' }, [create, aliceJoin, pl2], ban);
    const bobMsg = make('m.room.message', undefined, bob, { body: 'still here?' }, [create, pl, bobJoin], aliceMsg);
    const carolMsg = make('m.room.message', undefined, carol, { body: 'hello' }, [create, pl2, carolJoin], bobMsg);
    make('m.room.topic', '', alice, { topic: 'stale auth' }, [create, aliceJoin, pl], carolMsg);
    return { roomId, pdus: events.map((e) => e.json) };
  }

  for (const kind of ['memory', 'level'] as const) {
    for (const blocks of [3, 13]) {
      it(`${kind} store, ${blocks} PDUs per call: rejects by the state before, allows by it, and equals the per-event path`, async () => {
        const { roomId, pdus } = roomWithStaleAuth();
        await withStores(kind, async (a, b) => {
          const counter = { n: 0 };
          const fast = await importAll(counting(a, counter), roomId, pdus, blocks);
          const slow = await importAll(withoutCommitMany(b), roomId, pdus, 1);
          expect(fast).toEqual(slow);
          const statuses = (fast.outcomes as { status: string }[]).map((o) => o.status);
          // Bob's message rejected (check 5); everything else accepted.
          expect(statuses).toEqual([...Array<string>(10).fill('accepted'), 'rejected', 'accepted', 'accepted']);
          // Everything after the create event went by blocks.
          expect(counter.n).toBe(pdus.length - 1);
        });
      });
    }
  }
});

describe('check 6 on the block path (soft failure against a current state the block changed)', () => {
  /**
   * `@bob` joins; then, in one block, Alice bans him and Bob sends a message on his join (a fork:
   * its prev event is not the forward extremity). Checks 4 and 5 allow the message (Bob is joined
   * in the state before it); check 6 — against the current state, where the ban of this same block
   * has banned him — soft-fails it, without a read of the store (the current state is the block's
   * own snapshot). Then Alice's message on the ban is accepted.
   */
  function roomWithFork(): { readonly roomId: string; readonly pdus: readonly JsonObject[] } {
    const roomId = '!fork:z.example';
    const alice = '@alice:z.example';
    const bob = '@bob:z.example';
    const { events, make } = eventMaker(roomId);
    const create = make('m.room.create', '', alice, { creator: alice, room_version: '10' }, [], undefined);
    const aliceJoin = make('m.room.member', alice, alice, { membership: 'join' }, [create], create);
    const pl = make('m.room.power_levels', '', alice, { users: { [alice]: 100 }, ban: 50, events_default: 0 }, [create, aliceJoin], aliceJoin);
    const rules = make('m.room.join_rules', '', alice, { join_rule: 'public' }, [create, aliceJoin, pl], pl);
    const bobJoin = make('m.room.member', bob, bob, { membership: 'join' }, [create, pl, rules], rules);
    const ban = make('m.room.member', bob, alice, { membership: 'ban' }, [create, aliceJoin, pl, bobJoin], bobJoin);
    make('m.room.message', undefined, bob, { body: 'on my join' }, [create, pl, bobJoin], bobJoin);
    make('m.room.message', undefined, alice, { body: 'after the ban' }, [create, aliceJoin, pl], ban);
    return { roomId, pdus: events.map((e) => e.json) };
  }

  for (const kind of ['memory', 'level'] as const) {
    it(`${kind} store, the fork in one block: soft-failed by the block, as by the per-event path`, async () => {
      const { roomId, pdus } = roomWithFork();
      await withStores(kind, async (a, b) => {
        const counter = { n: 0 };
        const fast = await importAll(counting(a, counter), roomId, pdus, pdus.length);
        const slow = await importAll(withoutCommitMany(b), roomId, pdus, 1);
        expect(fast).toEqual(slow);
        expect((fast.outcomes as { status: string }[]).map((o) => o.status)).toEqual([...Array<string>(6).fill('accepted'), 'soft-failed', 'accepted']);
        // Everything after the create event went by the block (the soft failure too).
        expect(counter.n).toBe(pdus.length - 1);
      });
    });
  }
});

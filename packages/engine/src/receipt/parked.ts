/**
 * Parked events: a PDU whose auth events or prev events cannot be had now is not judged (it may
 * be valid — Synapse too ignores such an event rather than rejecting it,
 * `_load_or_fetch_auth_events_for_event`) but kept in the store's park and retried, in the room's
 * lock, after each event of its room that is stored. The spec is silent on waiting for missing
 * events; this is the engine's answer to Server-Server API › Checks performed on receipt of a PDU
 * when the events a check needs are not available.
 *
 * @module
 */
import { type Pdu, distinctIds, domainOf, parsePdu } from '@roomgraph/events';
import type { ParkedEvent } from '@roomgraph/store';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type EngineContext, NESTING_FETCHED, PARK_NESTING, type ProcessRequest } from '../context.js';
import type { EngineOutcomeCode } from '../outcome-codes.js';
import type { PduOutcome } from '../types.js';

/**
 * Parks the request's PDU when the store can and the request is not nested (else only reports
 * it), with `rule`/`reason` as the outcome. Outliers are never parked (they are reported dropped);
 * local events only when `parkLocal` (a local event citing prev events that are missing).
 */
export async function park(ctx: EngineContext, req: ProcessRequest, reason: string, rule?: EngineOutcomeCode, parkLocal = false): Promise<PduOutcome> {
  const outcome: PduOutcome = { eventId: req.pdu.eventId, status: req.asOutlier === true ? 'dropped' : 'parked', ...(rule !== undefined ? { rule } : {}), reason };
  if (req.asOutlier !== true && (parkLocal || req.local !== true) && ctx.store.supports.parkedEvents && req.nesting === PARK_NESTING) {
    // A full park takes no more (an event parked already may replace its record).
    const index = await parkedIndexOf(ctx, req.roomId, req.rules);
    const limit = ctx.limits.maxParkedPerRoom;
    if (index !== undefined && index.deps.size >= limit && !index.deps.has(req.pdu.eventId)) {
      return { eventId: req.pdu.eventId, status: 'dropped', rule: 'park.full', reason: `${reason}; and the room already holds ${limit} parked events` };
    }
    await ctx.store.parkEvents([{ eventId: req.pdu.eventId, roomId: req.roomId, json: req.pdu.json, origin: req.origin, receivedTs: ctx.now() }]);
    ctx.caches.noParked.delete(req.roomId);
    if (index !== undefined) {
      const deps = index.add(req.pdu);
      // Parked with every prev and auth event stored (what it lacks is further away, e.g. the
      // state at a prev event stored as an outlier): no stored event would name it as waiting.
      if ((await ctx.store.hasEvents(deps)).size === deps.length) index.stuck.add(req.pdu.eventId);
    }
  }
  return outcome;
}

/**
 * What the retries know of a room's parked events (one entry of `EngineCaches.parked`): each
 * one's dependencies — its distinct prev and auth event IDs — and, for each dependency, the
 * parked events that cite it. A retry then looks only at the parked events citing what was
 * stored since the last look, instead of reading and parsing every parked event after every
 * event of the room (2,000 parked events cost each later event of their room ~50 ms that way).
 */
export class ParkedIndex {
  /** Parked event ID → its dependencies. */
  readonly deps = new Map<string, readonly string[]>();
  /** Dependency → the parked events citing it. */
  readonly waiters = new Map<string, Set<string>>();
  /** The room's last stream position when the index last looked (events stored after it are new to it). */
  stream: number;
  /** Whether every parked event has been looked at since the index was read from the store. */
  checked = false;
  /**
   * Parked events whose dependencies were all stored when they were parked, or when a retry left
   * them parked (what they lack is further away: e.g. the state at a prev event stored without
   * it): looked at after every event stored, as the engine did for every parked event.
   */
  readonly stuck = new Set<string>();

  constructor(stream: number) {
    this.stream = stream;
  }

  /** Records (or replaces) a parked event; returns its dependencies. */
  add(pdu: Pdu): readonly string[] {
    this.remove(pdu.eventId);
    const deps = distinctIds([...pdu.prevEvents, ...pdu.authEvents]);
    this.deps.set(pdu.eventId, deps);
    for (const d of deps) {
      let w = this.waiters.get(d);
      if (w === undefined) this.waiters.set(d, (w = new Set<string>()));
      w.add(pdu.eventId);
    }
    return deps;
  }

  /** Forgets a parked event. */
  remove(id: string): void {
    this.stuck.delete(id);
    const deps = this.deps.get(id);
    if (deps === undefined) return;
    this.deps.delete(id);
    for (const d of deps) {
      const w = this.waiters.get(d);
      if (w === undefined) continue;
      w.delete(id);
      if (w.size === 0) this.waiters.delete(d);
    }
  }

  /** The parked events citing any of `ids`. */
  citing(ids: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of ids) for (const p of this.waiters.get(id) ?? []) out.add(p);
    return out;
  }
}

/**
 * The room's {@link ParkedIndex}, read from the store's park on first use (each parked event
 * parsed once; one that no longer parses is deleted); `undefined` when the store keeps no park.
 */
export async function parkedIndexOf(ctx: EngineContext, roomId: string, rules: RoomVersionRules): Promise<ParkedIndex | undefined> {
  const store = ctx.store;
  if (!store.supports.parkedEvents) return undefined;
  const known = ctx.caches.parked.get(roomId);
  if (known !== undefined) return known;
  // The stream position first: whatever is stored after it is looked at by the next retry.
  const stream = (await store.getRoom(roomId))?.lastStream ?? 0;
  const index = new ParkedIndex(stream);
  for (const p of await store.listParkedEvents(roomId)) {
    let pdu: Pdu;
    try { pdu = parsePdu(p.json, rules); } catch {
      await store.deleteParkedEvents(roomId, [p.eventId]);
      continue;
    }
    index.add(pdu);
  }
  ctx.caches.parked.set(roomId, index);
  return index;
}

/**
 * Retries the room's parked events whose auth and prev events are all stored now: on the first
 * retry of the room in this process every parked event is looked at; after that, only those citing
 * an event stored since (read from the room's stream), and, as retried events are stored, those
 * citing them — a chain of parked events is taken whole, in one retry.
 */
export async function retryParked(ctx: EngineContext, roomId: string, rules: RoomVersionRules): Promise<void> {
  const store = ctx.store;
  if (!store.supports.parkedEvents) return;
  // Rooms known to have nothing parked skip the store scan (parking goes through this engine;
  // a room's first check after start-up reads the store). With a store shared by several
  // processes, the entry is forgotten whenever the room's lock is taken anew: another process may
  // have parked an event since (EngineCaches.forgetRoomFacts).
  if (ctx.caches.noParked.get(roomId) !== undefined) return;
  const index = await parkedIndexOf(ctx, roomId, rules);
  if (index === undefined) return;
  const fresh = !index.checked;
  index.checked = true;
  // Each parked event retried at most once per call: one parked again (a dependency of its own
  // dependencies missing) waits for the next event stored.
  const tried = new Set<string>();
  let candidates: Set<string> = await storedSince(ctx, roomId, index);
  if (fresh) candidates = new Set(index.deps.keys());
  else for (const id of index.stuck) candidates.add(id);
  // Without a read by ID, the park as it is now, read once when something is ready: within this
  // call (the room's lock held) only its own retries change it, and a record parked again keeps
  // its PDU.
  let park: ReadonlyMap<string, { readonly at: number; readonly record: ParkedEvent }> | undefined;
  // Every round takes at least one event not tried yet, or is the last.
  while (candidates.size > 0) {
    const ready = await readyOf(ctx, index, candidates, tried);
    if (ready.size === 0) break;
    // The ready events' records, in the park's order (as parked: the order they would have been
    // taken in) — read by ID where the store can (the rest of the park is not read: ~10,000
    // parked events would be read at every event that frees one).
    let records: ParkedEvent[];
    if (store.getParkedEvents !== undefined) {
      records = [...(await store.getParkedEvents(roomId, [...ready]))];
    } else {
      park ??= new Map((await store.listParkedEvents(roomId)).map((record, at) => [record.eventId, { at, record }]));
      const found: { readonly at: number; readonly record: ParkedEvent }[] = [];
      for (const id of ready) {
        const p = park.get(id);
        if (p !== undefined) found.push(p);
      }
      records = found.sort((a, b) => a.at - b.at).map((p) => p.record);
    }
    if (records.length < ready.size) {
      const have = new Set(records.map((p) => p.eventId));
      for (const id of ready) if (!have.has(id)) index.remove(id); // gone from the park (another process took it)
    }
    for (const p of records) {
      const id = p.eventId;
      tried.add(id);
      let pdu: Pdu;
      try { pdu = parsePdu(p.json, rules); } catch {
        await store.deleteParkedEvents(roomId, [id]);
        index.remove(id);
        continue;
      }
      // The park record goes only after the event's own commit (the store orders the delete
      // after it), so a crash in between leaves the event parked, not lost. An event that parks
      // again keeps its record (a retry runs below the parking nesting: `park` stores nothing).
      const outcome = await ctx.process({ origin: p.origin ?? domainOf(pdu.sender) ?? '', pdu, rules, roomId, nesting: NESTING_FETCHED });
      if (outcome.status !== 'parked') {
        await store.deleteParkedEvents(roomId, [id]);
        index.remove(id);
      } else if (index.deps.has(id)) {
        index.stuck.add(id);
      }
    }
    candidates = await storedSince(ctx, roomId, index);
  }
  if (index.deps.size === 0) {
    ctx.caches.parked.delete(roomId);
    ctx.caches.noParked.set(roomId, true);
  }
}

/** Events of a room's stream read at once to find what was stored since the index last looked; past it, every parked event is looked at. */
const STREAM_READ = 1_000;

/** The parked events citing an event stored since the index last looked (and the index's stream moved on). */
async function storedSince(ctx: EngineContext, roomId: string, index: ParkedIndex): Promise<Set<string>> {
  const last = (await ctx.store.getRoom(roomId))?.lastStream ?? 0;
  const from = index.stream;
  index.stream = last;
  if (last <= from) return new Set();
  if (last - from > STREAM_READ) return new Set(index.deps.keys());
  const stored = await ctx.store.timeline(roomId, { from: from + 1, limit: last - from });
  return index.citing(stored.map((e) => e.eventId));
}

/** Of `candidates` (not yet `tried`), those whose dependencies are all stored. */
async function readyOf(ctx: EngineContext, index: ParkedIndex, candidates: ReadonlySet<string>, tried: ReadonlySet<string>): Promise<Set<string>> {
  const wanted = new Set<string>();
  for (const id of candidates) if (!tried.has(id)) for (const d of index.deps.get(id) ?? []) wanted.add(d);
  const ready = new Set<string>();
  if (wanted.size === 0) return ready;
  const have = await ctx.store.hasEvents([...wanted]);
  for (const id of candidates) {
    const deps = index.deps.get(id);
    if (deps !== undefined && !tried.has(id) && deps.every((d) => have.has(d))) ready.add(id);
  }
  return ready;
}

/**
 * Block import (`receivePdus`): the Server-Server API › Checks performed on receipt of a PDU,
 * checks 1 and 4–6 (a trusted import skips 2 and 3: signatures and content hash; for received
 * PDUs `receivePdus`'s look-ahead runs them, signatures on the verification thread, and hands
 * over only PDUs that passed — see {@link CheckedPdus}), and › Room State (the state before / after each event, the
 * forward extremities, the current state), run over a run of consecutive PDUs of one room in
 * memory, then committed with one `RoomStore.commitMany`.
 *
 * Each event still gets exactly the outcome and the stored records the per-event pipeline
 * (`pipeline.ts`) gives it: format (check 1) by `parsePdu`; auth against its auth events (check
 * 4); auth against the state before it (check 5, skipped — as there — when its auth events are
 * the ones that state selects); soft failure against the current state (check 6, skipped when its
 * prev events are the forward extremities); then the commit `commit.ts` would make (state before
 * and after as snapshots, extremities as `extremities.ts` moves them, the current state). States
 * are tracked as snapshot references plus small overlays (as `state/vstate.ts` does), with the
 * block's own snapshots referenced across the block's commits.
 *
 * Only the plain case is handled here: events whose prev events are earlier in the block or
 * stored with state, whose auth events are earlier in the block or stored, in a room that exists
 * and has nothing parked. The block stops before anything else — a PDU that does not parse, of
 * another room, a create event, an event already stored or repeated, missing prev or auth events
 * (fetching, parking, outlier promotion), prev events whose states differ or an accepted event
 * leaving other extremities (state resolution), a restricted join naming an authorising server
 * (key lookup) — and the caller runs that PDU through the per-event pipeline, then starts a new
 * block after it. Notifications are queued per event, in order, as `commit.ts` queues them.
 *
 * @module
 */
import { checkAuth } from '@roomgraph/auth';
import { isJsonObject } from '@roomgraph/canonical-json';
import { type Pdu, type RoomEvent, type StateEntries, authStateKeys, distinctIds, parsePdu, stateEntriesOf, stateKeyOf } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type CommitResult, type EventStatus, type NewSnapshot, type RoomCommit, type RoomInfo, type SnapshotId, type SnapshotRef, type StoredEvent, isStoreError } from '@roomgraph/store';
import { type EngineContext, SPEC_MAX_PREV_EVENTS } from '../context.js';
import { stateAfter } from '../state/after.js';
import { isRejectedStatus } from '../stored.js';
import type { PduOutcome } from '../types.js';
import type { Identified } from './identify.js';
import { notifyCommitted } from './commit.js';
import { type EventLinks, type LinkNow, NOT_AT_HAND, extremitiesAfterNow } from './extremities.js';
import { allAmong, listsEachOnceIn, sameExtremities } from './id-sets.js';
import { type Verdict, outcomeOf, verdictOf } from './outcome.js';
import { parkedIndexOf } from './parked.js';
import { settleInvite } from '../join/pending-invites.js';

/** At most this many events per block (one `commitMany`): bounds the in-memory state overlays. */
export const MAX_IMPORT_BLOCK = 256;

/** What {@link importBlock} did: the outcomes of the PDUs it committed, and the PDU it stopped at, if parsed. */
export interface ImportedBlock {
  /** Outcomes of `pdus[start]`, `pdus[start + 1]`, … (possibly none). */
  readonly outcomes: readonly PduOutcome[];
  /** The next PDU identified (its room known, parsed), when the block stopped at a parsed PDU. */
  readonly next: Identified | undefined;
  /**
   * The block ended at its size limit, or before a PDU whose checks 1–3 had not finished
   * ({@link CheckedPdus.endBefore}), having committed all it took: a new block can start at the
   * next PDU (else that PDU needs the per-event pipeline).
   */
  readonly cut?: boolean;
}

/** What check 4 reads of an event, with the state before it: see `Walk.#prepare`. */
interface Prepared {
  /** The state before the event. */
  readonly before: BState;
  /** Its auth events' views (the step adds the create event where the version wants it). */
  readonly authViews: RoomEvent[];
  /** The rejected ones among them (`undefined`: none). */
  readonly rejectedIds: readonly string[] | undefined;
}

/** A snapshot reference of the block: stored, created by an earlier commit of the block, or empty. */
type Base = SnapshotRef | null;

/** A state: a base plus changes (`null` removes a key), as `VState` but the base may be the block's own. */
interface BState {
  readonly base: Base;
  readonly overlay: ReadonlyMap<string, string | null>;
}

/**
 * A snapshot the block created: its content as a stored root plus changes — its own over the
 * snapshot of the block it was made from (`up`), chained at most {@link MAX_FLAT_CHAIN} deep (then
 * copied into one map), so a run of state events costs neither a copy of every change per event
 * (quadratic in the block's length) nor long lookups.
 */
export interface Flat {
  readonly root: SnapshotId | null;
  readonly up: Flat | undefined;
  readonly changes: ReadonlyMap<string, string | null>;
  readonly depth: number;
}

/** Longest chain of {@link Flat}s a lookup walks. */
export const MAX_FLAT_CHAIN = 16;

/**
 * The {@link Flat} of a state made of `overlay` over `parent` (a snapshot of the block), or over
 * the stored snapshot `root` when there is no parent.
 */
export function extendFlat(parent: Flat | undefined, root: SnapshotId | null, overlay: ReadonlyMap<string, string | null>): Flat {
  if (parent === undefined) return { root, up: undefined, changes: overlay, depth: 1 };
  if (parent.depth < MAX_FLAT_CHAIN) return { root: parent.root, up: parent, changes: overlay, depth: parent.depth + 1 };
  // Copied into one map: the chain's changes, the oldest first, then this state's.
  const chain: Flat[] = [];
  for (let f: Flat | undefined = parent; f !== undefined; f = f.up) chain.push(f);
  const changes = new Map<string, string | null>();
  for (let i = chain.length - 1; i >= 0; i--) for (const [k, v] of (chain[i] as Flat).changes) changes.set(k, v);
  for (const [k, v] of overlay) changes.set(k, v);
  return { root: parent.root, up: undefined, changes, depth: 1 };
}

/** A block snapshot's own entry for `key` (`null`: removed), or `undefined` when its root decides. */
export function flatGet(f: Flat | undefined, key: string): string | null | undefined {
  for (; f !== undefined; f = f.up) {
    const c = f.changes.get(key);
    if (c !== undefined) return c;
  }
  return undefined;
}

/**
 * An event of the block, as the store will hold it (what later events of the block read); also
 * its links for the extremity walks, without another object per lookup.
 */
interface BlockEvent extends EventLinks {
  readonly pdu: Pdu;
  readonly status: EventStatus;
  /** The state after the event (`stateAfter`'s answer for it once stored). */
  readonly after: BState;
}

const EMPTY: ReadonlyMap<string, string | null> = new Map();
/** The empty state (an event without prev events). */
const NO_STATE: BState = { base: null, overlay: EMPTY };

/** Auth events selection for checking an event against a state: the create event in every version. */
const WITH_CREATE = { includeCreate: true } as const;
const NONE_REJECTED = (): boolean => false;
/** checkAuth's options for checks 5 and 6 (none: one shared object). */
const NO_OPTIONS = {} as const;

/** Parsing a trusted PDU: no hashes or signatures will be checked (nothing kept for them). */
const TRUSTED = { trusted: true } as const;

/** "Not at hand without reading the store" (the synchronous fast paths' answer). */
const MISS: unique symbol = Symbol('miss');

/** What a {@link MISS} lacked: a stored event (or the knowledge that there is none), or a stored snapshot's entries. */
type Want = { readonly event: string } | { readonly snapshot: SnapshotId };

const sameWant = (a: Want, b: Want): boolean =>
  'event' in a ? 'event' in b && a.event === b.event : 'snapshot' in b && a.snapshot === b.snapshot;

const sameBase = (a: Base, b: Base): boolean =>
  a === b || (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && a.ref === b.ref);

function sameState(a: BState, b: BState): boolean {
  if (!sameBase(a.base, b.base) || a.overlay.size !== b.overlay.size) return false;
  for (const [k, v] of a.overlay) if (b.overlay.get(k) !== v) return false;
  return true;
}

/**
 * Imports `pdus[start…]` as one block where it can (see the module comment): returns the
 * outcomes of the PDUs committed, in order — none when the very first needs the per-event path.
 */
export async function importBlock(ctx: EngineContext, pdus: readonly unknown[], start: number, checked?: CheckedPdus): Promise<ImportedBlock> {
  const first = pdus[start];
  if (!isJsonObject(first) || typeof first['room_id'] !== 'string') return { outcomes: [], next: undefined };
  const roomId = first['room_id'];
  return ctx.locks.withRoom(roomId, () => importLocked(ctx, pdus, start, roomId, checked));
}

/**
 * Received (untrusted) PDUs for a block: checks 1–3 — format, signatures, content hash — were run
 * apart (by `receivePdus`'s look-ahead, the signatures on the verification thread).
 */
export interface CheckedPdus {
  /**
   * The parsed PDU at `index` when it passed checks 1–3 for the room `roomId` of version `rules`;
   * `undefined` otherwise (a failed or unfinished check, another room, already stored): the block
   * ends before it and the per-event pipeline takes it, with its full outcome.
   */
  readonly pdu: (index: number, roomId: string, rules: RoomVersionRules) => Promise<Pdu | undefined>;
  /** At most this many PDUs per block (the look-ahead's reach). */
  readonly limit: number;
  /**
   * Whether a block holding `taken` PDUs already ends before the PDU at `index` rather than wait
   * for its checks (optional: without it a block waits for each PDU, up to {@link CheckedPdus.limit}).
   */
  readonly endBefore?: (index: number, taken: number) => boolean;
}

/**
 * The room a block of `roomId`'s PDUs is imported into (read under the room's lock), or
 * `undefined` where no block can be: the store has no `commitMany`, the room is unknown or of a
 * version not supported, or it has parked events (the per-event path retries them after each event).
 */
async function blockRoom(ctx: EngineContext, roomId: string): Promise<RoomInfo | undefined> {
  const { store } = ctx;
  if (store.commitMany === undefined) return undefined;
  const room = await store.getRoom(roomId);
  if (room === undefined || !ctx.versions.has(room.roomVersion)) return undefined;
  if (store.supports.parkedEvents && ctx.caches.noParked.get(roomId) === undefined) {
    const parked = await parkedIndexOf(ctx, roomId, ctx.versions.get(room.roomVersion));
    if (parked !== undefined && parked.deps.size > 0) return undefined;
    ctx.caches.noParked.set(roomId, true);
  }
  return room;
}

/** {@link importBlock} inside the room's lock, which the caller holds (`roomId`: the PDUs' `room_id`). */
export async function importLocked(ctx: EngineContext, pdus: readonly unknown[], start: number, roomId: string, checked: CheckedPdus | undefined): Promise<ImportedBlock> {
  const { store } = ctx;
  const none: ImportedBlock = { outcomes: [], next: undefined };
  const room0 = await blockRoom(ctx, roomId);
  if (room0 === undefined) return none;
  const rules = ctx.versions.get(room0.roomVersion);

  // Check 1 (format) for the run of PDUs of this room; the block ends at the first that is not plain.
  const parsed: Pdu[] = [];
  const ids = new Set<string>();
  let next: Identified | undefined;
  const max = Math.min(MAX_IMPORT_BLOCK, checked?.limit ?? MAX_IMPORT_BLOCK);
  // Ended by its size or before a PDU not checked yet (not at a PDU it cannot take).
  let cut = false;
  for (let j = start; j < pdus.length; j++) {
    if (parsed.length >= max) {
      cut = true;
      break;
    }
    const json = pdus[j];
    if (!isJsonObject(json) || json['room_id'] !== roomId) break;
    if (json['type'] === 'm.room.create' && json['state_key'] === '') break;
    let pdu: Pdu;
    if (checked !== undefined) {
      if (checked.endBefore?.(j, parsed.length) === true) {
        cut = true;
        break;
      }
      const p = await checked.pdu(j, roomId, rules);
      if (p === undefined) break;
      pdu = p;
    } else {
      try { pdu = parsePdu(json, rules, TRUSTED); } catch { break; }
    }
    if (ids.has(pdu.eventId)) {
      next = { pdu, rules, roomId };
      break;
    }
    ids.add(pdu.eventId);
    parsed.push(pdu);
  }
  if (parsed.length === 0) return { outcomes: [], next };
  // Events already stored end the block (their outcome is the stored one, or a promotion).
  const already = await store.getEvents(parsed.map((p) => p.eventId));
  if (already.size > 0) {
    const at = parsed.findIndex((p) => already.has(p.eventId));
    cut = false;
    next = { pdu: parsed[at] as Pdu, rules, roomId };
    parsed.length = at;
    if (at === 0) return { outcomes: [], next };
  }
  // Everything the block cites that is stored, read once.
  const cited = new Set<string>();
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i] as Pdu;
    for (let j = 0; j < p.prevEvents.length; j++) if (!ids.has(p.prevEvents[j] as string)) cited.add(p.prevEvents[j] as string);
    for (let j = 0; j < p.authEvents.length; j++) if (!ids.has(p.authEvents[j] as string)) cited.add(p.authEvents[j] as string);
  }
  cited.add(room0.createEventId);
  const citedIds = [...cited];
  const stored = storedMap(citedIds, await store.getEvents(citedIds));
  return walkBlock(ctx, rules, roomId, room0, stored, parsed, next, cut);
}

/**
 * {@link importLocked} for one received PDU that passed checks 1–3 (`RoomEngine.receivePdu`, with
 * `pduRules` the rules it was checked by): the same checks and commit as a block of one — the
 * same stops, the same reads — without the bookkeeping of a run of PDUs. `undefined` where the
 * block would take nothing (the per-event pipeline then takes the PDU).
 */
export async function importOne(ctx: EngineContext, pdu: Pdu, pduRules: RoomVersionRules, roomId: string): Promise<PduOutcome | undefined> {
  const { store } = ctx;
  const room0 = await blockRoom(ctx, roomId);
  if (room0 === undefined) return undefined;
  const rules = ctx.versions.get(room0.roomVersion);
  const json = pdu.json;
  if (json['room_id'] !== roomId || (json['type'] === 'm.room.create' && json['state_key'] === '') || rules !== pduRules) return undefined;
  // Stored already: its outcome is the stored one, or a promotion.
  const id = pdu.eventId;
  const peeked = store.peekEvent?.(id);
  if (peeked !== undefined ? peeked !== null : (await store.getEvent(id)) !== undefined) return undefined;
  // What it cites that is stored, read once (in the order, without repeats, the block reads them).
  const cited: string[] = [];
  const cite = (ids: readonly string[]): void => {
    for (let j = 0; j < ids.length; j++) {
      const x = ids[j] as string;
      if (x !== id && !cited.includes(x)) cited.push(x);
    }
  };
  cite(pdu.prevEvents);
  cite(pdu.authEvents);
  if (!cited.includes(room0.createEventId)) cited.push(room0.createEventId);
  const stored = storedMap(cited, await store.getEvents(cited));
  const b = await walkBlock(ctx, rules, roomId, room0, stored, [pdu], undefined);
  return b.outcomes[0];
}

/**
 * The events of `got` (the store's answer for `ids`) in a map of the block's own: copied by ID,
 * without the iterator results a copy of the whole map makes per entry.
 */
function storedMap(ids: readonly string[], got: ReadonlyMap<string, StoredEvent>): Map<string, StoredEvent> {
  const stored = new Map<string, StoredEvent>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as string;
    const e = got.get(id);
    if (e !== undefined) stored.set(id, e);
  }
  return stored;
}

/**
 * The walk and the commit of a block: `parsed`, checked, in `stored` the stored events it cites
 * (`cut`: the block was cut short before the next PDU, see {@link ImportedBlock.cut}).
 */
async function walkBlock(
  ctx: EngineContext, rules: RoomVersionRules, roomId: string, room0: RoomInfo, stored: Map<string, StoredEvent>, parsed: readonly Pdu[], next: Identified | undefined, cut = false,
): Promise<ImportedBlock> {
  const { store } = ctx;
  if (store.commitMany === undefined) return { outcomes: [], next };
  const b = new Walk(ctx, rules, room0, stored);
  let n = 0;
  for (; n < parsed.length; n++) {
    // Synchronously where all it needs is at hand (no promise or microtask turn per event).
    let ok = b.stepNow(parsed[n] as Pdu);
    if (ok === MISS) ok = await b.step(parsed[n] as Pdu);
    if (!ok) {
      next = { pdu: parsed[n] as Pdu, rules, roomId };
      break;
    }
  }
  if (n === 0) return { outcomes: [], next };

  let results: CommitResult[];
  try {
    results = await store.commitMany(b.commits, { durable: false });
  } catch (e) {
    // A commit the store refuses is this module's mistake: the per-event path decides instead.
    if (isStoreError(e, 'STORE_INVALID_COMMIT') || isStoreError(e, 'STORE_UNKNOWN_SNAPSHOT')) return { outcomes: [], next: undefined };
    throw e;
  }
  // (A walk that stopped early stopped at a PDU the block cannot take: not cut.)
  return { outcomes: await b.finish(results), next, cut: cut && n === parsed.length };
}

/** The walk over a block's events: their checks and commits, in order. */
class Walk {
  readonly commits: RoomCommit[] = [];
  readonly #ctx: EngineContext;
  readonly #rules: RoomVersionRules;
  readonly #stored: Map<string, StoredEvent>;
  readonly #block = new Map<string, BlockEvent>();
  readonly #flat = new Map<string, Flat>();
  readonly #readers = new Map<SnapshotId, ReadonlyMap<string, string>>();
  readonly #room0: RoomInfo;
  #extremities: readonly string[];
  #current: Base | undefined;
  #refs = 0;
  /** Per commit: the ref of the state after its event, when one was written (for `caches.stateAfter`). */
  readonly #afterRefs: (string | undefined)[] = [];
  readonly #verdicts: (Verdict | undefined)[] = [];

  constructor(ctx: EngineContext, rules: RoomVersionRules, room: RoomInfo, stored: Map<string, StoredEvent>) {
    this.#ctx = ctx;
    this.#rules = rules;
    this.#room0 = room;
    this.#stored = stored;
    this.#extremities = room.forwardExtremities;
    this.#current = room.currentState;
  }

  /** IDs this walk read from the store and did not find there. */
  readonly #absent = new Set<string>();
  /**
   * What the last {@link MISS} lacked — an event or a stored snapshot to read — set by the one
   * place that answered it ({@link #viewNow}, {@link #linkNow}, {@link #lookupNow}) and read by
   * {@link step}.
   */
  #want: Want | undefined;

  /**
   * One event for the extremity walks ({@link LinkNow}): the block's record or the stored event,
   * `undefined` when the store has none, else {@link NOT_AT_HAND} (and wanted).
   */
  readonly #linkNow: LinkNow = (id) => this.#block.get(id) ?? this.#stored.get(id) ?? (this.#unread(id) === MISS ? NOT_AT_HAND : undefined);

  /**
   * For an event neither the block nor the walk's stored events hold: `undefined` when the store
   * has none (read before), else {@link MISS} — and the event is wanted.
   */
  #unread(id: string): undefined | typeof MISS {
    if (this.#absent.has(id)) return undefined;
    this.#want = { event: id };
    return MISS;
  }

  /**
   * The view of an event the checks read: a block event's PDU or a stored event's cached view;
   * `undefined` when the store has none, {@link MISS} when it has not been read yet (and wanted).
   */
  #viewNow(id: string): RoomEvent | undefined | typeof MISS {
    const be = this.#block.get(id);
    if (be !== undefined) return be.pdu;
    const e = this.#stored.get(id);
    return e !== undefined ? this.#ctx.caches.view(e, this.#rules) : this.#unread(id);
  }

  /**
   * Reads what the last {@link MISS} lacked and keeps it for the rest of the walk (an event, or
   * that it is absent; a snapshot's entries), and answers it; `undefined` when nothing was wanted
   * or the same as `last` (the read before did not help: a mistake, never a loop).
   */
  async #readWanted(last: Want | undefined): Promise<Want | undefined> {
    const want = this.#want;
    this.#want = undefined;
    if (want === undefined || (last !== undefined && sameWant(want, last))) return undefined;
    const store = this.#ctx.store;
    if ('event' in want) {
      const e = await store.getEvent(want.event);
      if (e === undefined) this.#absent.add(want.event);
      else this.#stored.set(want.event, e);
    } else {
      this.#readers.set(want.snapshot, await (store.stateReader?.(want.snapshot) ?? store.loadState(want.snapshot)));
    }
    return want;
  }

  /** One entry of a state, or {@link MISS} when it is in a stored snapshot not read yet (and wanted). */
  #lookupNow(s: BState, key: string): string | undefined | typeof MISS {
    const o = s.overlay.get(key);
    if (o !== undefined) return o ?? undefined;
    if (o === null || s.overlay.has(key)) return undefined;
    let root: SnapshotId | null;
    if (s.base === null) return undefined;
    if (typeof s.base === 'number') {
      root = s.base;
    } else {
      const f = this.#flat.get(s.base.ref) as Flat;
      const c = flatGet(f, key);
      if (c !== undefined) return c ?? undefined;
      root = f.root;
    }
    if (root === null) return undefined;
    const r = this.#readers.get(root);
    if (r !== undefined) return r.get(key);
    this.#want = { snapshot: root };
    return MISS;
  }

  /**
   * `loadAuthState`: the auth-relevant entries of `s` for `event`, as a lookup (the events found,
   * each once, in key order); {@link MISS} when an entry or an event it needs is not at hand.
   */
  #authStateNow(s: BState, event: RoomEvent): StateEntries<RoomEvent> | typeof MISS {
    const keys = authStateKeys(event, this.#rules, WITH_CREATE);
    const views: RoomEvent[] = [];
    for (let i = 0; i < keys.length; i++) {
      const id = this.#lookupNow(s, keys[i] as string);
      if (id === MISS) return MISS;
      if (id === undefined) continue;
      let repeat = false;
      for (let j = 0; j < views.length; j++) if ((views[j] as RoomEvent).eventId === id) repeat = true;
      if (repeat) continue;
      const v = this.#viewNow(id);
      if (v === MISS) return MISS;
      if (v !== undefined) views.push(v);
    }
    return stateEntriesOf(views);
  }

  /** A reference to `s` for a commit: its base when it has no overlay, else a new snapshot of the commit. */
  #ref(s: BState, snapshots: NewSnapshot[]): SnapshotRef {
    if (s.overlay.size === 0 && s.base !== null) return s.base;
    const set: [string, string][] = [];
    const remove: string[] = [];
    for (const [k, v] of s.overlay) {
      if (v === null) remove.push(k);
      else set.push([k, v]);
    }
    const ref = `b${this.#refs++}`;
    snapshots.push({ ref, parent: s.base, changes: { set, remove } });
    const flat = s.base === null || typeof s.base === 'number' ? extendFlat(undefined, s.base, s.overlay) : extendFlat(this.#flat.get(s.base.ref) as Flat, null, s.overlay);
    this.#flat.set(ref, flat);
    return { ref };
  }

  /** The state after a prev event (stored with state, or of the block). */
  #after(id: string): BState | undefined {
    const be = this.#block.get(id);
    if (be !== undefined) return be.after;
    const e = this.#stored.get(id);
    if (e === undefined || e.status === 'outlier') return undefined;
    const v = stateAfter(this.#ctx, e);
    return { base: v.base, overlay: v.overlay };
  }

  /**
   * Checks one event and plans its commit, as the per-event pipeline would; `false` (nothing
   * planned) when the event needs that pipeline. {@link stepNow}, reading from the store what it
   * lacked each time it answered {@link MISS}, until it answers (each read is kept, so each
   * retry gets further).
   */
  async step(event: Pdu): Promise<boolean> {
    let read: Want | undefined;
    for (;;) {
      const done = this.stepNow(event);
      if (done !== MISS) return done;
      // (A MISS that wanted nothing, or what was just read, cannot happen; were it to, the
      // per-event path decides.)
      read = await this.#readWanted(read);
      if (read === undefined) return false;
    }
  }

  /**
   * {@link step} without reading the store: the answer where everything it needs is at hand (the
   * usual case: a block's own events, the stored events and snapshot entries it has read), else
   * {@link MISS}, having planned nothing and noted what it lacked. One call, no promise and no
   * turn of the microtask queue per event.
   */
  stepNow(event: Pdu): boolean | typeof MISS {
    // Check 4: auth against the auth events, all of which must be known (else: fetch / park).
    const prepared = this.#prepare(event);
    if (prepared === undefined) return false;
    const { before, authViews } = prepared;
    const createId = this.#withCreate(event);
    if (createId !== undefined) {
      const c = this.#viewNow(createId);
      if (c === MISS) return MISS;
      if (c !== undefined) authViews.push(c);
    }
    const rejection = this.#check4(event, prepared);

    // Check 5: against the state before.
    let r5: Verdict | undefined;
    if (rejection === undefined) {
      const now = this.#authStateNow(before, event);
      if (now === MISS) return MISS;
      r5 = this.#check5(event, now);
    }

    // Check 6: soft failure against the current state.
    let softFail: Verdict | undefined;
    const cur = rejection === undefined && r5 === undefined ? this.#softFailState(event) : undefined;
    if (cur !== undefined) {
      const now = this.#authStateNow(cur, event);
      if (now === MISS) return MISS;
      softFail = this.#check6(event, now);
    }
    const verdict = rejection ?? r5;

    // The commit (commit.ts): extremities and current state only move for an accepted event.
    let extremities: string[] | undefined;
    if (verdict === undefined && softFail === undefined) {
      // The block commits an accepted event only where it is then the room's one forward
      // extremity (#plan). In a room of more extremities than an event may cite, that needs each
      // of them among its prev events — or retired by the walk through its rejected or
      // soft-failed prev events, left to the per-event path — and is asked first: the walks below
      // would read every extremity, and `step` reads one missing event per retry — quadratic in
      // the extremities, per event (~80 ms per event at 1,000 extremities).
      if (this.#extremities.length > SPEC_MAX_PREV_EVENTS && !allAmong(this.#extremities, event.prevEvents)) return false;
      const now = extremitiesAfterNow(this.#extremities, event, this.#linkNow);
      if (now === NOT_AT_HAND) return MISS;
      extremities = now;
    }
    return this.#plan(event, before, verdict, softFail, extremities);
  }

  /** The create event's ID where check 4 needs it besides `event`'s auth events (v12: not among them), else `undefined`. */
  #withCreate(event: Pdu): string | undefined {
    const createId = this.#room0.createEventId;
    return this.#rules.authorization.roomIdFromCreateEvent && !event.authEvents.includes(createId) ? createId : undefined;
  }

  /**
   * The state before `event`: its prev events are earlier in the block or stored with state (else:
   * fetching / promotion), all with one state (else: resolution) — `undefined` where the block
   * cannot take the event (also a restricted join naming an authorising server: it needs that
   * server's keys, signatures.ts).
   */
  #beforeOf(event: Pdu): BState | undefined {
    if (event.type === 'm.room.member' && this.#rules.authorization.restrictedJoinRule && typeof event.content['join_authorised_via_users_server'] === 'string') return undefined;
    let before: BState | undefined;
    const prevs = event.prevEvents;
    for (let i = 0; i < prevs.length; i++) {
      const s = this.#after(prevs[i] as string);
      if (s === undefined) return undefined;
      if (before === undefined) before = s;
      else if (!sameState(before, s)) return undefined;
    }
    return before ?? NO_STATE;
  }

  /**
   * The state before `event` ({@link #beforeOf}) and the views of its auth events (repeats once)
   * with the rejected ones among them, all of the block or stored; `undefined` where the block
   * cannot take the event (an auth event not known: fetch / park).
   */
  #prepare(event: Pdu): Prepared | undefined {
    const before = this.#beforeOf(event);
    if (before === undefined) return undefined;
    const distinct = distinctIds(event.authEvents);
    const authViews: RoomEvent[] = [];
    let rejectedIds: string[] | undefined;
    for (let i = 0; i < distinct.length; i++) {
      const a = distinct[i] as string;
      const be = this.#block.get(a);
      let rejected: boolean;
      if (be !== undefined) {
        authViews.push(be.pdu);
        rejected = be.status === 'rejected';
      } else {
        const e = this.#stored.get(a);
        if (e === undefined) return undefined;
        authViews.push(this.#ctx.caches.view(e, this.#rules));
        rejected = isRejectedStatus(e);
      }
      if (rejected) (rejectedIds ??= []).push(a);
    }
    return { before, authViews, rejectedIds };
  }

  /** Check 4: auth against the auth events (their views, with the create event where the version wants it). */
  #check4(event: Pdu, { authViews, rejectedIds: rejectedList }: Prepared): Verdict | undefined {
    const isRejected = rejectedList === undefined ? NONE_REJECTED : (x: string): boolean => rejectedList.includes(x);
    const r4 = checkAuth(event, stateEntriesOf(authViews), this.#rules, { authEvents: authViews, isRejected });
    return verdictOf(r4);
  }

  /** Check 5: against the auth state of the state before — skipped when the auth events are the ones that state selects. */
  #check5(event: Pdu, stateAuth: StateEntries<RoomEvent>): Verdict | undefined {
    if (listsEachOnceIn(event.authEvents, stateAuth.entries)) return undefined;
    const r5 = checkAuth(event, stateAuth, this.#rules, NO_OPTIONS);
    return verdictOf(r5);
  }

  /** The current state to soft-fail `event` against (check 6), or `undefined` when the check is skipped (its prev events are the extremities, or no current state). */
  #softFailState(event: Pdu): BState | undefined {
    if (this.#current === undefined || sameExtremities(this.#extremities, event.prevEvents)) return undefined;
    return { base: this.#current, overlay: EMPTY };
  }

  /** Check 6: soft failure against the current state's auth state. */
  #check6(event: Pdu, curAuth: StateEntries<RoomEvent>): Verdict | undefined {
    const r6 = checkAuth(event, curAuth, this.#rules, NO_OPTIONS);
    return verdictOf(r6);
  }

  /**
   * The commit of a checked event (commit.ts): `verdict` its rejection, `softFail` its soft
   * failure, `extremities` (accepted events only) the forward extremities after it. `false`
   * (nothing planned) when other extremities remain: the current state needs resolution.
   */
  #plan(event: Pdu, before: BState, verdict: Verdict | undefined, softFail: Verdict | undefined, extremities: string[] | undefined): boolean {
    const id = event.eventId;
    const status: EventStatus = verdict !== undefined ? 'rejected' : softFail !== undefined ? 'soft-failed' : 'accepted';
    if (extremities !== undefined && extremities.some((x) => x !== id)) return false; // the current state needs resolution
    const isState = event.stateKey !== undefined;
    const key = isState ? stateKeyOf(event.type, event.stateKey as string) : '';
    const snapshots: NewSnapshot[] = [];
    const beforeRef = this.#ref(before, snapshots);
    const entered = isState && status !== 'rejected';
    let after: BState = { base: beforeRef, overlay: entered ? new Map([[key, id]]) : EMPTY };
    let currentRef: SnapshotRef | undefined;
    let afterRef: string | undefined;
    if (extremities !== undefined) {
      if (isState) {
        const ref = this.#ref(after, snapshots);
        after = { base: ref, overlay: EMPTY };
        afterRef = typeof ref === 'object' ? ref.ref : undefined;
        currentRef = ref;
      } else {
        currentRef = beforeRef;
      }
    }
    const recorded = verdict ?? softFail;
    // (Literals, not spreads of optional members: no object copied per member.)
    const ne: RoomCommit['event'] = recorded !== undefined ? { event, status, rejection: recorded, stateBefore: beforeRef } : { event, status, stateBefore: beforeRef };
    const roomId = this.#room0.roomId;
    this.commits.push(extremities !== undefined && currentRef !== undefined
      ? { roomId, event: ne, snapshots, forwardExtremities: extremities, currentState: currentRef }
      : extremities !== undefined
        ? { roomId, event: ne, snapshots, forwardExtremities: extremities }
        : currentRef !== undefined ? { roomId, event: ne, snapshots, currentState: currentRef } : { roomId, event: ne, snapshots });
    this.#afterRefs.push(afterRef);
    this.#verdicts.push(recorded);
    this.#block.set(id, { pdu: event, status, after, prevEvents: event.prevEvents, depth: event.depth });
    if (extremities !== undefined) this.#extremities = extremities;
    if (currentRef !== undefined) this.#current = currentRef;
    return true;
  }

  /** After the commit: the state-after cache, notifications per event (as `commit.ts` queues them), outcomes. */
  async finish(results: readonly CommitResult[]): Promise<PduOutcome[]> {
    const ctx = this.#ctx;
    const roomId = this.#room0.roomId;
    const out: PduOutcome[] = [];
    let oldCurrent = this.#room0.currentState;
    for (let i = 0; i < results.length; i++) {
      const res = results[i] as CommitResult;
      const afterRef = this.#afterRefs[i];
      if (afterRef !== undefined) {
        // (The ref of a snapshot of this commit: its result resolves it.)
        const sid = res.snapshots.get(afterRef);
        if (sid !== undefined) ctx.caches.stateAfter.set(res.event.eventId, sid);
      }
      const outcome = outcomeOf(res.event, res.duplicate);
      out.push(outcome);
      if (res.duplicate) continue;
      const commit = this.commits[i] as RoomCommit;
      // (No promise for an event that is not a local user's membership: see settleInvite.)
      const settling = outcome.status === 'accepted' ? settleInvite(ctx, roomId, commit.event.event.json) : undefined;
      if (settling !== undefined) await settling;
      // Nobody listening: nothing to queue (`notifyCommitted` would return at once), no await per event.
      if (ctx.outbox.listening) await notifyCommitted(ctx, roomId, commit.event.event.json, outcome, commit.forwardExtremities !== undefined, res.room, oldCurrent);
      oldCurrent = res.room.currentState;
    }
    return out;
  }
}

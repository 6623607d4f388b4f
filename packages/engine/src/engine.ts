/**
 * The room engine: runs the checks performed on receipt of a PDU (Server-Server API › Checks
 * performed on receipt of a PDU), keeps the state before and after every event, soft-fails,
 * tracks forward extremities and current state, fetches missing events, and creates local events.
 *
 * It depends only on the {@link RoomStore}, {@link Transport} and {@link KeySource} interfaces.
 *
 * @module
 */
import type { JsonObject, JsonValue } from '@roomgraph/canonical-json';
import { encodeBase64, signJson } from '@roomgraph/crypto';
import {
  type KeyLookup, type Pdu, type RoomEvent, type StateLookup, type VerifyKey,
  PduFormatError, addEventSignature, authEventTypes, buildEvent, hashAndSignEvent, checkContentHash, domainOf, eventId as computeEventId,
  parsePdu, redact, requiredSigningServers, roomIdFromCreateEvent, stateKeyOf, stateLookupOf, toRoomEvent,
  type SignatureCheckResult, verifyEventSignatures, verifyEventSignaturesAsync,
} from '@roomgraph/events';
import { type AuthResult, checkAuth } from '@roomgraph/auth';
import {
  DEFAULT_ROOM_VERSION, type RoomVersionRules, RoomVersionRegistry,
} from '@roomgraph/room-versions';
import { ResolutionCache, resolveStateDelta } from '@roomgraph/state-res';
import { type EventStatus, LruCache, type RoomInfo, type RoomStore, type SnapshotId, type StoredEvent } from '@roomgraph/store';
import {
  type FederationHandler, type KeySource, type MakeJoinResponse, type MissingEventsRequest, type SendJoinResponse,
  type StateIdsResponse, type StateResponse, type Transport, TransportError, checkedTransport,
} from '@roomgraph/transport';
import { EngineError } from './errors.js';
import { type RestrictedJoinContext, authoriseRestrictedJoin, fillJoinTemplate, isJoinTemplateFor } from './join.js';
import type {
  CreateRoomTemplate, EngineNotification, LocalEventTemplate, PduOutcome, ReceiveOptions, RoomEngineOptions,
} from './types.js';
import { type VState, SnapshotPlan, StateView, lookup, materialise, sameVState, stored, viewOf, withEntry } from './vstate.js';

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isRejectedStatus = (e: StoredEvent): boolean => e.status === 'rejected' || (e.status === 'outlier' && e.rejection !== undefined);
/** A stored outlier that was not rejected: a normal delivery with its state known promotes it. */
const isPromotableOutlier = (e: StoredEvent): boolean => e.status === 'outlier' && e.rejection === undefined;

/** The user a stored member event has joined, if it is a join. */
function joinedUser(e: StoredEvent | undefined): string | undefined {
  if (e === undefined || e.stateKey === undefined || e.type !== 'm.room.member') return undefined;
  const content = e.json['content'];
  return isObject(content) && content['membership'] === 'join' ? e.stateKey : undefined;
}

/** A state overlay of stored state events (rejected ones are not state). */
function overlayOf(events: Iterable<StoredEvent>): Map<string, string | null> {
  const overlay = new Map<string, string | null>();
  for (const e of events) if (e.stateKey !== undefined && !isRejectedStatus(e)) overlay.set(stateKeyOf(e.type, e.stateKey), e.eventId);
  return overlay;
}

/** The event ID of PDU JSON that failed validation, where one can still be computed ('' otherwise). */
function eventIdOrEmpty(json: JsonObject, rules: RoomVersionRules): string {
  try {
    return computeEventId(json, rules);
  } catch {
    return '';
  }
}

/** Internal result of processing one PDU. */
type Outcome = PduOutcome;

/** A PDU whose room and version are known, parsed. */
interface Identified {
  readonly pdu: Pdu;
  readonly rules: RoomVersionRules;
  readonly roomId: string;
}

/**
 * A look-ahead result: dropped already, or identified — with its signature check under way, or
 * without one (already stored: its outcome is the stored one).
 */
type Prepared = PduOutcome | Identified | (Identified & { readonly sig: Promise<SignatureCheckResult> });

/** How the signature stage of {@link RoomEngine.receivePdus} runs for one PDU. */
interface ProcessChecks {
  /** Skip signature and content hash checks (trusted import). */
  readonly trusted?: boolean;
  /** A local event: no soft-fail check, and a rejection is returned without storing anything. */
  readonly local?: boolean;
  /** A signature check already started (pipelined). */
  readonly sig?: Promise<SignatureCheckResult>;
  /**
   * A backfilled event (SS › Backfilling): history older than what is stored. Not soft-fail
   * checked, and it leaves the forward extremities and the current state alone (as Synapse's
   * `backfilled=True` persistence does).
   */
  readonly backfilled?: boolean;
}

/**
 * A room engine for one server. Create with {@link createRoomEngine}.
 *
 * Writes are serialised per room; each accepted, rejected or soft-failed event ends in exactly one
 * atomic store commit.
 */
export class RoomEngine implements FederationHandler {
  /** This server's name. */
  readonly serverName: string;
  readonly #store: RoomStore;
  readonly #transport: Transport | undefined;
  readonly #keys: KeySource;
  readonly #versions: RoomVersionRegistry;
  readonly #now: () => number;
  readonly #maxMissing: number;
  readonly #maxPrev: number;
  readonly #opts: RoomEngineOptions;
  readonly #views: LruCache<string, RoomEvent>;
  /** event ID → snapshot holding the state after it (only where one was written). */
  readonly #after = new LruCache<string, SnapshotId>(200_000);
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #listeners = new Set<(n: EngineNotification) => void>();
  /** Notifications waiting for their commits to be durable; `#outboxBase` counts those already handed out. */
  #outbox: EngineNotification[] = [];
  /** Set when the store failed to write: the engine refuses further work (see `#ready`). */
  #failure: string | undefined;
  /** Per room: how many joined members each server has, as of a current-state snapshot (see `#serversInRoom`). */
  readonly #serverCounts = new LruCache<string, { snapshot: SnapshotId; counts: Map<string, number> }>(1_000);
  #outboxBase = 0;
  readonly #resCache = new Map<string, ResolutionCache>();
  /** Rooms with no parked events (so the store need not be scanned after every event). */
  readonly #noParked = new Set<string>();
  #opened: Promise<void> | undefined;

  constructor(options: RoomEngineOptions) {
    this.#opts = options;
    this.serverName = options.serverName;
    this.#store = options.store;
    // Remote answers are untrusted: their shape is checked before the engine reads them.
    this.#transport = options.transport === undefined ? undefined : checkedTransport(options.transport);
    this.#keys = options.keys;
    this.#versions = options.roomVersions ?? new RoomVersionRegistry();
    this.#now = options.now ?? Date.now;
    this.#maxMissing = options.limits?.maxMissingEvents ?? 100;
    this.#maxPrev = Math.min(20, options.limits?.maxPrevEvents ?? 10);
    this.#views = new LruCache(options.limits?.eventCacheSize ?? 50_000);
  }

  /** The store this engine writes to. */
  get store(): RoomStore {
    return this.#store;
  }

  /** Before sending events to other servers: only durable events leave this server. */
  async #flushForSend(): Promise<void> {
    await this.#store.flush?.();
  }

  /** Before serving other servers: only durable events leave this server. */
  async #served(): Promise<void> {
    await this.#ready();
    await this.#store.flush?.();
  }

  async #ready(): Promise<void> {
    if (this.#failure !== undefined) {
      throw new EngineError('ENGINE_CLOSED', `the store failed to write (${this.#failure}); reopen the store and create a new engine over it (this one's caches describe commits that were lost)`);
    }
    if (this.#store.status === 'open') return;
    this.#opened ??= this.#store.open();
    await this.#opened;
  }

  /** Subscribes to notifications (new events, state changes, soft-fails, rejections). Returns an unsubscribe function. */
  subscribe(listener: (n: EngineNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Notifications as an async iterable (until `close`). */
  events(): AsyncIterable<EngineNotification> {
    const queue: EngineNotification[] = [];
    let wake: (() => void) | undefined;
    const unsub = this.subscribe((n) => { queue.push(n); wake?.(); });
    const self = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<EngineNotification> {
        return {
          async next(): Promise<IteratorResult<EngineNotification>> {
            while (queue.length === 0) {
              if (self.#store.status === 'closed') { unsub(); return { done: true, value: undefined }; }
              await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
            }
            return { done: false, value: queue.shift() as EngineNotification };
          },
          async return(): Promise<IteratorResult<EngineNotification>> { unsub(); return { done: true, value: undefined }; },
        };
      },
    };
  }

  /**
   * Queues a notification. Notifications are delivered once the commits they describe are durable
   * (see {@link #settle}), so an embedder never acts on an event a crash could still take back.
   */
  #emit(n: EngineNotification): void {
    if (this.#listeners.size > 0) this.#outbox.push(n);
  }

  /**
   * Waits until every commit made so far is durable (the store's group commit: commits are made
   * with `durable: false`, so a batch of PDUs shares few writes and processing overlaps them), then
   * delivers the notifications queued before the wait. If the store cannot write, the undelivered
   * notifications are dropped with the commits they describe and the store's error is thrown.
   */
  async #settle(): Promise<void> {
    const upto = this.#outboxBase + this.#outbox.length;
    try {
      await this.#store.flush?.();
    } catch (e) {
      this.#outboxBase += this.#outbox.length;
      this.#outbox = [];
      this.#failure = String((e as Error)?.message ?? e);
      throw e;
    }
    const k = upto - this.#outboxBase;
    if (k <= 0) return;
    const ready = this.#outbox.splice(0, k);
    this.#outboxBase += k;
    for (const n of ready) {
      for (const l of this.#listeners) {
        try { l(n); } catch { /* a listener's failure is its own */ }
      }
    }
  }

  /** Runs a public write operation and resolves only once what it stored is durable. */
  async #durably<T>(fn: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      await this.#settle().catch(() => undefined);
      throw e;
    }
    await this.#settle();
    return result;
  }

  async #withRoom<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(roomId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(roomId, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(roomId) === tail) this.#locks.delete(roomId);
    }
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await Promise.all([...this.#locks.values()]);
    await this.#store.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Views and small lookups

  #view(e: StoredEvent, rules: RoomVersionRules): RoomEvent {
    let v = this.#views.get(e.eventId);
    if (v === undefined) {
      v = toRoomEvent(e.json, rules, e.eventId);
      this.#views.set(e.eventId, v);
    }
    return v;
  }

  async #rulesOfRoom(roomId: string): Promise<RoomVersionRules | undefined> {
    const room = await this.#store.getRoom(roomId);
    return room === undefined ? undefined : this.#versions.get(room.roomVersion);
  }

  /** The state after a stored (non-outlier) event. */
  #stateAfter(e: StoredEvent): VState {
    const cached = this.#after.get(e.eventId);
    if (cached !== undefined) return stored(cached);
    const before = stored(e.stateBefore ?? null);
    if (e.stateKey === undefined || isRejectedStatus(e)) return before;
    return withEntry(before, stateKeyOf(e.type, e.stateKey), e.eventId);
  }

  #resolutionCache(roomId: string): ResolutionCache {
    let c = this.#resCache.get(roomId);
    if (c === undefined) {
      c = new ResolutionCache();
      this.#resCache.set(roomId, c);
    }
    // Events the store lacked at an earlier resolution may have arrived since.
    c.forgetMissing();
    return c;
  }

  /** Resolves several states (deduplicated) with the room's algorithm. */
  async #resolve(roomId: string, rules: RoomVersionRules, states: readonly VState[], inFlight?: RoomEvent): Promise<VState> {
    const distinct: VState[] = [];
    for (const s of states) if (!distinct.some((d) => sameVState(d, s))) distinct.push(s);
    if (distinct.length === 1) return distinct[0] as VState;
    if (distinct.length === 0) return stored(null);
    // The states are read in place (no copy of a 100k-member base), and when every state is a
    // stored snapshot plus an overlay, the keys that can differ come from the store's snapshot
    // diffs (proportional to the deltas between them), so the split costs O(conflict), not O(room).
    const first = distinct[0] as VState;
    let maps: ReadonlyMap<string, string>[];
    let conflictedKeys: Set<string> | undefined;
    if (distinct.every((s) => s.base !== null)) {
      // Every state is a stored snapshot plus an overlay: materialise only the first base and
      // express the others as overlays on it, from the store's snapshot diffs (proportional to
      // the deltas between the snapshots). Those diffs and overlays are also the only keys that
      // can differ, so the resolution's split costs O(conflict), not O(room).
      const base0 = await (this.#store.stateReader?.(first.base as SnapshotId) ?? this.#store.loadState(first.base as SnapshotId));
      conflictedKeys = new Set<string>(first.overlay.keys());
      maps = [new StateView(base0, first.overlay)];
      for (const s of distinct.slice(1)) {
        const overlay = new Map<string, string | null>();
        if (s.base !== first.base) {
          for (const [k, [, b]] of await this.#store.diffStates(first.base as SnapshotId, s.base as SnapshotId)) overlay.set(k, b ?? null);
        }
        for (const [k, v] of s.overlay) overlay.set(k, v);
        for (const k of overlay.keys()) conflictedKeys.add(k);
        maps.push(new StateView(base0, overlay));
      }
    } else {
      maps = await Promise.all(distinct.map((s) => viewOf(this.#store, s)));
    }
    const store = this.#store;
    const self = this;
    const statuses = new Map<string, boolean>();
    const delta = await resolveStateDelta(rules, maps, {
      async getEvents(ids: readonly string[]): Promise<ReadonlyMap<string, RoomEvent>> {
        const got = await store.getEvents(ids);
        const out = new Map<string, RoomEvent>();
        // The event being committed is part of its own "state after" but not stored yet.
        if (inFlight !== undefined && ids.includes(inFlight.eventId)) out.set(inFlight.eventId, inFlight);
        for (const [id, e] of got) {
          statuses.set(id, isRejectedStatus(e));
          out.set(id, self.#view(e, rules));
        }
        return out;
      },
      isRejected: (id: string) => statuses.get(id) === true,
    }, { cache: this.#resolutionCache(roomId), ...(conflictedKeys !== undefined ? { conflictedKeys } : {}) });
    // The result relative to the first state: its overlay plus the resolution's changes.
    const overlay = new Map(first.overlay);
    for (const [k, v] of delta.changes) overlay.set(k, v ?? null);
    return { base: first.base, overlay };
  }

  /** The auth-relevant entries of `state` for `event` (create included in every version), as a lookup. */
  async #loadAuthState(store: RoomStore, rules: RoomVersionRules, state: VState, event: RoomEvent): Promise<StateLookup<RoomEvent> & { readonly map: ReadonlyMap<string, RoomEvent> }> {
    const types = authEventTypes(event, rules, { includeCreate: true });
    const keys = types.map(([t, k]) => stateKeyOf(t, k));
    const ids = await lookup(store, state, keys);
    const want = [...new Set(ids.filter((x): x is string => x !== undefined))];
    const events = await store.getEvents(want);
    return stateLookupOf([...events.values()].map((e) => this.#view(e, rules)));
  }

  // ---------------------------------------------------------------------------------------------
  // Keys

  /** Fetches the keys an event's signatures name for `servers`; returns a sync lookup. */
  async #keyLookup(json: JsonObject, servers: readonly string[], rules: RoomVersionRules): Promise<KeyLookup & { raw: (s: string, k: string) => Uint8Array | undefined }> {
    const found = new Map<string, VerifyKey>();
    const sigs = json['signatures'];
    const ts = json['origin_server_ts'];
    const min = rules.signatures.enforceKeyValidity && typeof ts === 'number' ? ts : undefined;
    await Promise.all(servers.map(async (server) => {
      const mine = isObject(sigs) ? sigs[server] : undefined;
      if (!isObject(mine)) return;
      for (const keyId of Object.keys(mine)) {
        if (!keyId.startsWith('ed25519:')) continue;
        // This server's own current key needs no lookup (e.g. a restricted join it countersigned).
        const own = this.#opts.signingKey;
        if (server === this.serverName && own !== undefined && own.keyId === keyId) {
          found.set(`${server}\u0000${keyId}`, { publicKey: own.publicKey });
          continue;
        }
        const key = await this.#keys.getKey(server, keyId, min).catch(() => undefined);
        if (key === undefined) continue;
        const until = key.expiredTs ?? key.validUntilTs;
        found.set(`${server}\u0000${keyId}`, { publicKey: key.publicKey, ...(until !== undefined ? { validUntilTs: until } : {}) });
      }
    }));
    const fn = ((s: string, k: string) => found.get(`${s}\u0000${k}`)) as KeyLookup & { raw: (s: string, k: string) => Uint8Array | undefined };
    fn.raw = (s, k) => found.get(`${s}\u0000${k}`)?.publicKey;
    return fn;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving PDUs

  /**
   * Runs the receipt checks on each PDU, in order, as if each arrived from `origin`
   * (Server-Server API › Checks performed on receipt of a PDU): format (else dropped),
   * signatures (else dropped), content hash (else redacted), auth against its auth events (else
   * rejected), against the state before it (else rejected), against the current state (else
   * soft-failed). Never throws for bad input: every PDU gets an outcome.
   */
  async receivePdus(origin: string, pdus: readonly unknown[], options?: ReceiveOptions): Promise<PduOutcome[]> {
    return this.#durably(() => this.#doReceivePdus(origin, pdus, options));
  }

  async #doReceivePdus(origin: string, pdus: readonly unknown[], options?: ReceiveOptions): Promise<PduOutcome[]> {
    await this.#ready();
    const trusted = options?.trusted === true;
    // Pipelining: the signatures of the next few PDUs are verified on the crypto thread pool while
    // the current one is processed (each PDU is still processed, and committed, in order).
    const window = trusted ? 0 : Math.max(0, options?.lookahead ?? 32);
    const prepared: (Promise<Prepared> | undefined)[] = new Array<Promise<Prepared> | undefined>(pdus.length);
    const prepare = (i: number): Promise<Prepared> => {
      let p = prepared[i];
      if (p === undefined) {
        p = this.#identify(pdus[i]).then(async (id) => {
          if ('status' in id) return id;
          // A PDU already stored (a re-delivery, a resumed import) gets its stored outcome without
          // a signature check: none is started for it. (A stored outlier may be promoted: checked.)
          const known = await this.#store.getEvent(id.pdu.eventId);
          if (known !== undefined && known.status !== 'outlier') return id;
          // Warm the store's cache with the events this PDU cites, so that a disk read (an auth
          // event not read for a while, in a big room) overlaps the processing of earlier PDUs.
          this.#store.getEvents([...id.pdu.authEvents, ...id.pdu.prevEvents]).catch(() => undefined);
          return { ...id, sig: this.#startSignatureCheck(id.pdu, id.rules) };
        });
        // A failed look-ahead must not surface as an unhandled rejection; it is retried in order.
        p.catch(() => undefined);
        prepared[i] = p;
      }
      return p;
    };
    const out: PduOutcome[] = [];
    for (let i = 0; i < pdus.length; i++) {
      for (let j = i + 1; j < Math.min(pdus.length, i + 1 + window); j++) void prepare(j);
      const ahead: Prepared | undefined = window > 0 ? await prepare(i).catch(() => undefined) : undefined;
      out.push(await this.#receiveLocked(origin, pdus[i], trusted, ahead));
      prepared[i] = undefined;
    }
    return out;
  }

  /** {@link receivePdus} for one PDU. */
  async receivePdu(origin: string, pdu: unknown, options?: ReceiveOptions): Promise<PduOutcome> {
    return this.#durably(() => this.#doReceivePdu(origin, pdu, options));
  }

  async #doReceivePdu(origin: string, pdu: unknown, options?: ReceiveOptions): Promise<PduOutcome> {
    await this.#ready();
    return this.#receiveLocked(origin, pdu, options?.trusted === true, undefined);
  }

  /** The room a PDU names, for the per-room lock (v12 create events: computed from the event). */
  #lockKey(pdu: unknown): string {
    if (!isObject(pdu)) return '';
    const r = pdu['room_id'];
    if (typeof r === 'string') return r;
    try {
      return roomIdFromCreateEvent(pdu);
    } catch {
      return '';
    }
  }

  /**
   * Identifies and processes one PDU inside its room's lock, so that events racing their room's
   * create event (or each other) see a consistent room. A look-ahead identification is reused
   * unless it found no room (the room may exist by now).
   */
  async #receiveLocked(origin: string, pdu: unknown, trusted: boolean, ahead: Prepared | undefined): Promise<PduOutcome> {
    return this.#withRoom(this.#lockKey(pdu), async () => {
      const pre: Prepared | PduOutcome | Identified = ahead === undefined || ('status' in ahead && ahead.rule === 'unknown_room')
        ? await this.#identify(pdu)
        : ahead;
      if ('status' in pre) return pre;
      const sig = 'sig' in pre ? (pre as { readonly sig: Promise<SignatureCheckResult> }).sig : undefined;
      const checks: ProcessChecks = { trusted, ...(sig !== undefined ? { sig } : {}) };
      const outcome = await this.#process(origin, pre.pdu, pre.rules, pre.roomId, 0, false, undefined, checks);
      if (outcome.status !== 'dropped' && outcome.status !== 'parked') await this.#retryParked(pre.roomId, pre.rules);
      return outcome;
    });
  }

  /** Looks up the keys an event names and starts verifying its signatures off the main thread. */
  async #startSignatureCheck(pdu: Pdu, rules: RoomVersionRules): Promise<SignatureCheckResult> {
    const keys = await this.#keyLookup(pdu.json, requiredSigningServers(pdu.json, rules), rules);
    return verifyEventSignaturesAsync(pdu.json, rules, keys);
  }

  /** Finds the room, its version, and parses the PDU. */
  async #identify(json: unknown): Promise<PduOutcome | { pdu: Pdu; rules: RoomVersionRules; roomId: string }> {
    const drop = (rule: string, reason: string, id = ''): PduOutcome => ({ eventId: id, status: 'dropped', rule, reason });
    if (!isObject(json)) return drop('format', 'the PDU is not a JSON object');
    let rules: RoomVersionRules;
    let roomId: string | undefined = typeof json['room_id'] === 'string' ? json['room_id'] : undefined;
    const isCreate = json['type'] === 'm.room.create' && json['state_key'] === '';
    const known = roomId !== undefined ? await this.#store.getRoom(roomId) : undefined;
    if (known !== undefined) {
      rules = this.#versions.get(known.roomVersion);
    } else if (isCreate) {
      const content = json['content'];
      const v = isObject(content) ? (content['room_version'] ?? '1') : '1';
      if (typeof v !== 'string' || !this.#versions.has(v)) return drop('room_version', `unsupported room version ${JSON.stringify(v)}`);
      rules = this.#versions.get(v);
    } else {
      return drop('unknown_room', `room ${JSON.stringify(roomId)} is not known to this server`);
    }
    let pdu: Pdu;
    try {
      pdu = parsePdu(json, rules);
    } catch (e) {
      const id = eventIdOrEmpty(json, rules);
      if (e instanceof PduFormatError) return drop('format', e.message.slice(0, 500), id);
      return drop('format', String(e), id);
    }
    if (roomId === undefined) {
      if (!isCreate || rules.eventFormat.createEventHasRoomId) return drop('format', 'no room_id', pdu.eventId);
      roomId = roomIdFromCreateEvent(pdu.json, rules);
    }
    return { pdu, rules, roomId };
  }

  async #retryParked(roomId: string, rules: RoomVersionRules): Promise<void> {
    if (!this.#store.supports.parkedEvents) return;
    // Rooms known to have nothing parked skip the store scan (parking goes through this engine;
    // a room's first check after start-up reads the store).
    if (this.#noParked.has(roomId)) return;
    for (let round = 0; round < 100; round++) {
      const parked = await this.#store.listParkedEvents(roomId);
      if (parked.length === 0) {
        this.#noParked.add(roomId);
        return;
      }
      let progressed = false;
      for (const p of parked) {
        let pdu: Pdu;
        try { pdu = parsePdu(p.json, rules); } catch {
          await this.#store.deleteParkedEvents(roomId, [p.eventId]);
          continue;
        }
        const needed = [...new Set([...pdu.prevEvents, ...pdu.authEvents])];
        const have = await this.#store.hasEvents(needed);
        if (have.size < needed.length) continue;
        // The park record goes only after the event's own commit (the store orders the delete
        // after it), so a crash in between leaves the event parked, not lost. An event parked
        // again has just replaced its record.
        const outcome = await this.#process(p.origin ?? domainOf(pdu.sender) ?? '', pdu, rules, roomId, 1);
        if (outcome.status !== 'parked') await this.#store.deleteParkedEvents(roomId, [p.eventId]);
        progressed = true;
      }
      if (!progressed) return;
    }
  }

  /**
   * The receipt pipeline for one parsed PDU (inside the room's lock). `depth` bounds recursion
   * through missing-event fetches.
   */
  async #process(
    origin: string, pdu: Pdu, rules: RoomVersionRules, roomId: string, depth: number, asOutlier = false,
    knownStateBefore?: VState, checks?: ProcessChecks,
  ): Promise<Outcome> {
    const store = this.#store;
    const id = pdu.eventId;
    const existing = await store.getEvent(id);
    // A stored event is a duplicate — unless it is an outlier that now arrives through normal
    // receipt with its state known: it is then "de-outliered" (as Synapse does): run through the
    // whole pipeline and committed as a promotion (the store replaces the outlier record).
    const backfilled = checks?.backfilled === true;
    if (existing !== undefined && (asOutlier || !(await this.#canPromote(existing, pdu, roomId, knownStateBefore !== undefined, backfilled)))) {
      return this.#outcomeOf(existing, true);
    }

    // Signatures (SS › Validating hashes and signatures on received events). Failing → dropped.
    // A trusted import (the embedder's own data) skips this and the content hash check.
    if (checks?.trusted !== true) {
      let sig: SignatureCheckResult;
      if (checks?.sig !== undefined) {
        sig = await checks.sig;
      } else {
        const keys = await this.#keyLookup(pdu.json, requiredSigningServers(pdu.json, rules), rules);
        sig = verifyEventSignatures(pdu.json, rules, keys);
      }
      if (sig.status !== 'ok') {
        // A badly signed copy of a stored outlier does not promote it.
        if (existing !== undefined) return this.#outcomeOf(existing, true);
        return { eventId: id, status: 'dropped', rule: `signature.${sig.status}`, reason: sig.message };
      }
    }

    // Content hash: on mismatch, continue with the redacted event.
    let json = pdu.json;
    let redactedOnReceipt = false;
    if (checks?.trusted !== true && !checkContentHash(json, rules)) {
      json = redact(json, rules);
      redactedOnReceipt = true;
    }
    const event: RoomEvent = redactedOnReceipt ? toRoomEvent(json, rules, id) : pdu;

    let room = await store.getRoom(roomId);
    const isCreate = event.type === 'm.room.create' && event.stateKey === '';
    if (room === undefined && !isCreate) return { eventId: id, status: 'dropped', rule: 'unknown_room', reason: 'room not known' };

    // Prev events stored as outliers are promoted first where their own prev events have state
    // (no network needed: their stored JSON was checked when they were stored).
    const prevStored = new Map(await store.getEvents(event.prevEvents));
    if (!asOutlier && knownStateBefore === undefined && room !== undefined && [...prevStored.values()].some(isPromotableOutlier)) {
      await this.#promoteOutlierAncestors(origin, roomId, rules, event.prevEvents, depth, backfilled);
      for (const [k, v] of await store.getEvents(event.prevEvents)) prevStored.set(k, v);
      // Promotions moved the extremities and the current state.
      room = await store.getRoom(roomId);
    }
    // Missing prev events next (get_missing_events; prev events still outliers count as missing,
    // and are promoted when the answer includes them). Fetching auth events first would store
    // events that are also prev events as outliers (they would be promoted later, but at a cost).
    const isMissingPrev = (p: string): boolean => { const e = prevStored.get(p); return e === undefined || e.status === 'outlier'; };
    let missingPrev = asOutlier || knownStateBefore !== undefined ? [] : event.prevEvents.filter(isMissingPrev);
    if (missingPrev.length > 0 && room !== undefined) {
      await this.#fetchMissing(origin, roomId, rules, event, room, depth);
      for (const [k, v] of await store.getEvents(event.prevEvents)) prevStored.set(k, v);
      // The fetched events moved the extremities and the current state: the soft-fail check and
      // the new extremities must start from the room as it is now.
      room = await store.getRoom(roomId);
      missingPrev = event.prevEvents.filter(isMissingPrev);
    }

    // Auth events must be known (fetched as outliers if not).
    await this.#ensureAuthEvents(origin, roomId, rules, event, depth);
    const authStored = await store.getEvents(event.authEvents);
    const authViews: RoomEvent[] = [];
    for (const a of authStored.values()) authViews.push(this.#view(a, rules));
    if (rules.authorization.roomIdFromCreateEvent && room !== undefined && !event.authEvents.includes(room.createEventId)) {
      const c = await store.getEvent(room.createEventId);
      if (c !== undefined) authViews.push(this.#view(c, rules));
    }
    const rejectedIds = new Set<string>();
    for (const a of authStored.values()) if (isRejectedStatus(a)) rejectedIds.add(a.eventId);
    const isRejected = (x: string): boolean => rejectedIds.has(x);
    const serverKeys = await this.#authorisingKeys(event, rules);
    const missingAuth = event.authEvents.filter((a) => !authStored.has(a));

    const reject = (r: AuthResult & { allowed: false }): { rule: string; reason: string } => ({ rule: r.rule, reason: r.reason });
    let rejection: { rule: string; reason: string } | undefined;
    if (missingAuth.length > 0) {
      // Auth events that cannot be found do not make the event invalid — they may exist — so it is
      // not stored as rejected (Synapse ignores it: federation_event.py
      // `_load_or_fetch_auth_events_for_event`). It is parked and retried when they arrive; an
      // outlier is not stored.
      const reason = `auth events not available: ${missingAuth.join(', ')}`;
      if (!asOutlier && checks?.local !== true && store.supports.parkedEvents && depth === 0) {
        await store.parkEvents([{ eventId: id, roomId, json: pdu.json, origin, receivedTs: this.#now() }]);
        this.#noParked.delete(roomId);
        return { eventId: id, status: 'parked', rule: 'auth_events.missing', reason };
      }
      return { eventId: id, status: asOutlier ? 'dropped' : 'parked', rule: 'auth_events.missing', reason };
    } else {
      // Check 4: auth against the event's own auth events.
      const r = checkAuth(event, stateLookupOf(authViews), rules, { authEvents: authViews, isRejected, serverKeys });
      if (!r.allowed) rejection = reject(r);
    }

    // A backfilled copy of the room's own create event, stored as an outlier, is promoted below.
    const promotingCreate = isCreate && backfilled && existing !== undefined && room !== undefined && room.createEventId === id;
    if (asOutlier || (isCreate && room !== undefined && !promotingCreate)) {
      // Outliers: stored without state; rejected ones remember it.
      if (isCreate && room !== undefined && !asOutlier) rejection ??= { rule: 'create.duplicate', reason: 'the room already has a create event' };
      // An outlier create event of an unknown room (joining over federation) creates the room,
      // without state or extremities yet; a rejected one creates nothing.
      if (room === undefined && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };
      if (room === undefined && event.roomId === undefined && roomIdFromCreateEvent(event.json, rules) !== roomId) {
        return { eventId: id, status: 'dropped', rule: 'room_id', reason: `the create event is not the one of ${roomId}` };
      }
      const res = await store.commit({
        roomId,
        ...(room === undefined ? { createRoom: { roomVersion: rules.id, createEventId: id } } : {}),
        event: { event, status: 'outlier', ...(rejection !== undefined ? { rejection } : {}) },
      }, { durable: false });
      return this.#outcomeOf(res.event, false, redactedOnReceipt);
    }

    // State before the event.
    const states: VState[] = [];
    for (const p of event.prevEvents) {
      const e = prevStored.get(p);
      if (e !== undefined && e.status !== 'outlier') states.push(this.#stateAfter(e));
    }
    if (missingPrev.length > 0 && room !== undefined) {
      const remote = await this.#remoteStateBefore(origin, roomId, rules, event, depth);
      if (remote === undefined) {
        if (store.supports.parkedEvents && depth === 0) {
          await store.parkEvents([{ eventId: id, roomId, json: pdu.json, origin, receivedTs: this.#now() }]);
          this.#noParked.delete(roomId);
          return { eventId: id, status: 'parked', reason: `missing prev_events: ${missingPrev.join(', ')}` };
        }
        return { eventId: id, status: 'parked', reason: `missing prev_events: ${missingPrev.join(', ')}` };
      }
      states.push(remote);
    }
    // A rejected create event of a room not known yet creates nothing (as for outliers above): had
    // it been stored, it would claim the room ID, and the room's real create would then be a
    // duplicate (a server forging a create for another server's room ID, delivered first, would
    // empty that room).
    if (isCreate && room === undefined && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };
    const before = isCreate ? stored(null) : knownStateBefore ?? await this.#resolve(roomId, rules, states);

    // Check 5: auth against the state before the event.
    if (rejection === undefined && !isCreate) {
      const stateAuth = await this.#loadAuthState(store, rules, before, event);
      const claimed = [...event.authEvents].sort();
      const calculated = [...new Set([...stateAuth.map.values()].map((e) => e.eventId))].sort();
      const same = claimed.length === calculated.length && claimed.every((x, i) => x === calculated[i]);
      if (!same) {
        const r = checkAuth(event, stateAuth, rules, { serverKeys });
        if (!r.allowed) rejection = reject(r);
      }
    }

    // Check 6: soft failure against the current state.
    let softFail: { rule: string; reason: string } | undefined;
    if (rejection === undefined && room !== undefined && room.currentState !== undefined && !isCreate && checks?.local !== true && checks?.backfilled !== true) {
      const extrem = new Set(room.forwardExtremities);
      const prevs = new Set(event.prevEvents);
      const same = extrem.size === prevs.size && [...prevs].every((p) => extrem.has(p));
      if (!same) {
        let current: VState = stored(room.currentState ?? null);
        if (missingPrev.length > 0) {
          const extStates: VState[] = [];
          const ext = await store.getEvents(room.forwardExtremities);
          for (const e of ext.values()) extStates.push(this.#stateAfter(e));
          current = await this.#resolve(roomId, rules, [...extStates, before]);
        }
        const curAuth = await this.#loadAuthState(store, rules, current, event);
        const r = checkAuth(event, curAuth, rules, { serverKeys });
        if (!r.allowed) softFail = reject(r);
      }
    }

    const status: EventStatus = rejection !== undefined ? 'rejected' : softFail !== undefined ? 'soft-failed' : 'accepted';
    if (checks?.local === true && rejection !== undefined) return { eventId: id, status: 'rejected', rule: rejection.rule, reason: rejection.reason };
    return this.#commitEvent(roomId, rules, event, status, rejection ?? softFail, before, room, redactedOnReceipt, checks?.backfilled === true);
  }

  /**
   * Whether a stored event may be promoted from outlier by this (normal) delivery: it is an
   * outlier that was not rejected, of this room, not a create event, the delivered PDU has the
   * same edges, and its state before is known — given (`knownState`), or all its prev events are
   * stored with state (not outliers). Synapse de-outliers in the same situation
   * (`_process_pulled_event` / `on_receive_pdu` let an existing outlier through); the spec is
   * silent on outliers.
   */
  async #canPromote(existing: StoredEvent, pdu: Pdu, roomId: string, knownState: boolean, backfilled = false): Promise<boolean> {
    if (!isPromotableOutlier(existing) || existing.roomId !== roomId) return false;
    // The create event is promoted only by backfill (its state before is empty): elsewhere it
    // arrives as the room's first event, or as an outlier of a joined room.
    if (existing.type === 'm.room.create' && existing.stateKey === '' && !backfilled) return false;
    const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    // v1/v2 event IDs are not hashes: a different event under a known ID is not promoted.
    if (pdu.type !== existing.type || pdu.stateKey !== existing.stateKey || !same(pdu.prevEvents, existing.prevEvents) || !same(pdu.authEvents, existing.authEvents)) return false;
    // Backfilled: the state before comes from the prev events, or the remote's state_ids.
    if (knownState || backfilled) return true;
    if (existing.prevEvents.length === 0) return false;
    const prevs = await this.#store.getEvents(existing.prevEvents);
    return existing.prevEvents.every((p) => { const e = prevs.get(p); return e !== undefined && e.status !== 'outlier'; });
  }

  /**
   * Promotes stored outliers among `ids` and their outlier ancestors (through prev_events,
   * bounded by `limits.maxMissingEvents`), oldest first, from their stored JSON: each one whose
   * prev events then all have state goes through the normal pipeline (see {@link #canPromote}).
   */
  async #promoteOutlierAncestors(origin: string, roomId: string, rules: RoomVersionRules, ids: readonly string[], depth: number, backfilled = false): Promise<void> {
    const found = new Map<string, StoredEvent>();
    let frontier = [...new Set(ids)];
    while (frontier.length > 0 && found.size < this.#maxMissing) {
      const got = await this.#store.getEvents(frontier);
      const next: string[] = [];
      for (const id of frontier) {
        const e = got.get(id);
        if (e === undefined || !isPromotableOutlier(e) || e.roomId !== roomId || found.has(id) || found.size >= this.#maxMissing) continue;
        found.set(id, e);
        for (const p of e.prevEvents) if (!found.has(p)) next.push(p);
      }
      frontier = [...new Set(next)];
    }
    const order = [...found.values()].sort((a, b) => a.depth - b.depth || a.stream - b.stream);
    for (const e of order) {
      let pdu: Pdu;
      try { pdu = parsePdu(e.json, rules); } catch { continue; }
      if (pdu.eventId !== e.eventId) continue;
      // Ancestors of a backfilled event are backfilled too: they never move the extremities.
      await this.#process(origin, pdu, rules, roomId, depth + 1, false, undefined, { trusted: true, backfilled });
    }
  }

  /**
   * Whether an accepted, stored event (outliers included in the walk) has `x` among its prev
   * events: Synapse's `_calculate_new_extremities` never makes such an event a forward extremity
   * (`_get_events_which_are_prevs`). The store keeps no child index, so this walks back from the
   * forward extremities, expanding only events deeper than `x` (children of `x` are deeper), at
   * most 10 000 events. For a live event (deeper than the extremities) it reads the extremities
   * only.
   */
  async #hasAcceptedChild(room: RoomInfo, x: RoomEvent): Promise<boolean> {
    const seen = new Set<string>(room.forwardExtremities);
    let frontier = [...room.forwardExtremities];
    let visited = 0;
    while (frontier.length > 0 && visited < 10_000) {
      const got = await this.#store.getEvents(frontier);
      const next: string[] = [];
      for (const e of got.values()) {
        visited++;
        if (e.prevEvents.includes(x.eventId) && e.status === 'accepted') return true;
        if (e.depth <= x.depth + 1) continue;
        for (const p of e.prevEvents) {
          if (seen.has(p)) continue;
          seen.add(p);
          next.push(p);
        }
      }
      frontier = next;
    }
    return false;
  }

  /** Keys for the restricted-join authorising server's signature (an auth rule, F6.2). */
  async #authorisingKeys(event: RoomEvent, rules: RoomVersionRules): Promise<((s: string, k: string) => Uint8Array | undefined) | undefined> {
    const via = event.type === 'm.room.member' ? event.content['join_authorised_via_users_server'] : undefined;
    if (typeof via !== 'string' || !rules.authorization.restrictedJoinRule) return undefined;
    const server = domainOf(via);
    if (server === undefined) return undefined;
    const lookupFn = await this.#keyLookup(event.json, [server], rules);
    return lookupFn.raw;
  }

  #outcomeOf(e: StoredEvent, duplicate: boolean, redactedOnReceipt = false): Outcome {
    const status = e.status === 'outlier' && e.rejection !== undefined ? 'rejected' : e.status;
    return {
      eventId: e.eventId, status,
      ...(e.rejection !== undefined ? { rule: e.rejection.rule, ...(e.rejection.reason !== undefined ? { reason: e.rejection.reason } : {}) } : {}),
      ...(duplicate ? { duplicate: true } : {}),
      ...(redactedOnReceipt ? { redactedOnReceipt: true } : {}),
    };
  }

  /**
   * New forward extremities after `event` (Synapse's persist_events `_calculate_new_extremities`):
   * an accepted event joins them and retires its prev events; where a prev event was soft-failed
   * or rejected, the extremities that chain was built on are retired too (no dangling
   * extremities). Rejected and soft-failed events never become extremities.
   */
  async #newExtremities(room: RoomInfo | undefined, event: RoomEvent, status: EventStatus): Promise<string[] | undefined> {
    if (status !== 'accepted') return undefined;
    const result = new Set(room?.forwardExtremities ?? []);
    // An event may already have children: events accepted with state from state_ids while it was
    // missing or an outlier (a gap filled later, e.g. by backfill, or a promoted outlier). Then it
    // is not an extremity (Synapse: `_get_events_which_are_prevs`).
    if (room === undefined || !(await this.#hasAcceptedChild(room, event))) result.add(event.eventId);
    for (const p of event.prevEvents) result.delete(p);
    // Walk up through soft-failed / rejected prev events.
    const seen = new Set<string>();
    let frontier = [...event.prevEvents];
    while (frontier.length > 0) {
      const got = await this.#store.getEvents(frontier);
      const next: string[] = [];
      for (const e of got.values()) {
        if (e.status === 'outlier') continue;
        if (e.status === 'soft-failed' || e.status === 'rejected') {
          for (const pp of e.prevEvents) {
            if (seen.has(pp)) continue;
            seen.add(pp);
            result.delete(pp);
            next.push(pp);
          }
        }
      }
      frontier = next;
    }
    return [...result].sort();
  }

  async #commitEvent(
    roomId: string, rules: RoomVersionRules, event: RoomEvent, status: EventStatus,
    rejection: { rule: string; reason: string } | undefined, before: VState, room: RoomInfo | undefined,
    redactedOnReceipt: boolean, backfilled = false,
  ): Promise<Outcome> {
    const store = this.#store;
    const plan = new SnapshotPlan();
    const beforeRef = plan.ref(before);
    const isState = event.stateKey !== undefined;
    const after: VState = isState && status !== 'rejected' ? withEntry(before, stateKeyOf(event.type, event.stateKey as string), event.eventId) : before;
    const extremities = backfilled && room !== undefined ? undefined : await this.#newExtremities(room, event, status);
    let currentRef: ReturnType<SnapshotPlan['ref']> | undefined;
    let afterRef: ReturnType<SnapshotPlan['ref']> | undefined;
    let newCurrent: VState | undefined;
    if (extremities !== undefined) {
      const others = extremities.filter((x) => x !== event.eventId);
      if (others.length === 0) {
        newCurrent = after;
      } else {
        const got = await store.getEvents(others);
        const states: VState[] = [after];
        for (const x of others) {
          const e = got.get(x);
          if (e !== undefined) states.push(this.#stateAfter(e));
        }
        newCurrent = await this.#resolve(roomId, rules, states, event);
      }
      if (isState && sameVState(newCurrent, after)) {
        afterRef = plan.ref(after);
        currentRef = afterRef;
      } else {
        currentRef = plan.ref(newCurrent);
        if (isState && status !== 'rejected') afterRef = plan.ref(after);
      }
    }
    const oldCurrent = room?.currentState;
    const res = await store.commit({
      roomId,
      ...(room === undefined ? { createRoom: { roomVersion: rules.id, createEventId: event.eventId } } : {}),
      event: { event, status, ...(rejection !== undefined ? { rejection } : {}), stateBefore: beforeRef },
      snapshots: plan.snapshots,
      ...(extremities !== undefined ? { forwardExtremities: extremities } : {}),
      ...(currentRef !== undefined ? { currentState: currentRef } : {}),
    }, { durable: false });
    if (afterRef !== undefined) {
      const sid = typeof afterRef === 'number' ? afterRef : res.snapshots.get(afterRef.ref);
      if (sid !== undefined) this.#after.set(event.eventId, sid);
    }
    const outcome: Outcome = { ...this.#outcomeOf(res.event, res.duplicate, redactedOnReceipt), ...(res.promoted ? { promoted: true } : {}) };
    if (!res.duplicate) {
      this.#emit({ kind: 'event', roomId, eventId: event.eventId, status: outcome.status, ...(outcome.rule !== undefined ? { rule: outcome.rule } : {}), event: event.json });
      if (extremities !== undefined) this.#emit({ kind: 'extremities', roomId, forwardExtremities: res.room.forwardExtremities });
      if (this.#listeners.size > 0 && res.room.currentState !== oldCurrent && res.room.currentState !== undefined) {
        const changed = new Map<string, { from: string | undefined; to: string | undefined }>();
        if (oldCurrent === undefined) {
          for (const [k, v] of await store.loadState(res.room.currentState)) changed.set(k, { from: undefined, to: v });
        } else {
          for (const [k, [a, b]] of await store.diffStates(oldCurrent, res.room.currentState)) changed.set(k, { from: a, to: b });
        }
        if (changed.size > 0) this.#emit({ kind: 'state', roomId, changed });
      }
    }
    return outcome;
  }

  // ---------------------------------------------------------------------------------------------
  // Missing events (SS › Getting missing events; Room State)

  async #ensureAuthEvents(origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, depth: number): Promise<void> {
    if (this.#transport === undefined || depth > 8 || event.authEvents.length === 0) return;
    const have = await this.#store.hasEvents(event.authEvents);
    const missing = event.authEvents.filter((a) => !have.has(a));
    for (const m of missing) {
      const json = await this.#transport.getEvent(origin, m).catch(() => undefined);
      if (json === undefined) continue;
      let pdu: Pdu;
      try { pdu = parsePdu(json, rules); } catch { continue; }
      if (pdu.eventId !== m) continue;
      await this.#process(origin, pdu, rules, roomId, depth + 1, true);
    }
  }

  async #fetchMissing(origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, room: RoomInfo, depth: number): Promise<void> {
    if (this.#transport === undefined || depth > 0) return;
    const got = await this.#transport.getMissingEvents(origin, roomId, {
      earliestEvents: room.forwardExtremities, latestEvents: [event.eventId], limit: this.#maxMissing, minDepth: 0,
    }).catch(() => [] as readonly JsonObject[]);
    const pdus: Pdu[] = [];
    for (const j of got) {
      try { pdus.push(parsePdu(j, rules)); } catch { /* dropped */ }
    }
    pdus.sort((a, b) => a.depth - b.depth || (a.eventId < b.eventId ? -1 : 1));
    for (const p of pdus) {
      if (p.eventId === event.eventId) continue;
      await this.#process(origin, p, rules, roomId, depth + 1);
    }
  }

  /** The state before `event` as the remote reports it (its events stored as outliers). */
  async #remoteStateBefore(origin: string, roomId: string, rules: RoomVersionRules, event: RoomEvent, depth: number): Promise<VState | undefined> {
    // Depth 1 = an event #fetchMissing fetched: the oldest of a window smaller than the gap needs
    // the remote's state (Synapse does the same in _get_missing_events_for_pdu / _process_pulled_event).
    if (this.#transport === undefined || depth > 1) return undefined;
    let ids: StateIdsResponse;
    try {
      ids = await this.#transport.getStateIds(origin, roomId, event.eventId);
    } catch {
      return undefined;
    }
    // A room's state always holds at least the create event: an empty answer means the remote
    // does not know the state there (e.g. it has the event only as an outlier), not "no state".
    if (ids.pduIds.length === 0) return undefined;
    const all = [...new Set([...ids.authChainIds, ...ids.pduIds])];
    const have = await this.#store.hasEvents(all);
    const fetched: Pdu[] = [];
    for (const id of all) {
      if (have.has(id)) continue;
      const json = await this.#transport.getEvent(origin, id).catch(() => undefined);
      if (json === undefined) continue;
      try {
        const p = parsePdu(json, rules);
        if (p.eventId === id) fetched.push(p);
      } catch { /* skip */ }
    }
    fetched.sort((a, b) => a.depth - b.depth || (a.eventId < b.eventId ? -1 : 1));
    for (const p of fetched) await this.#process(origin, p, rules, roomId, depth + 1, true);
    const got = await this.#store.getEvents(ids.pduIds);
    // A state with events that could not be had is not the state: judging the event against what
    // is left (e.g. no create event) would reject it wrongly. It waits (parks) instead.
    if (ids.pduIds.some((x) => !got.has(x))) return undefined;
    return { base: null, overlay: overlayOf(got.values()) };
  }

  // ---------------------------------------------------------------------------------------------
  // Local events

  #signer(): { serverName: string; key: NonNullable<RoomEngineOptions['signingKey']> } {
    const key = this.#opts.signingKey;
    if (key === undefined) throw new EngineError('ENGINE_NO_SIGNING_KEY', 'this engine has no signing key');
    return { serverName: this.serverName, key };
  }

  /**
   * Creates, signs, auth-checks and stores a local event in one step: prev_events = the forward
   * extremities (bounded, deepest first), auth events selected from the current state.
   * @throws {@link EngineError} `ENGINE_AUTH_FAILED` when the event would be rejected or soft-failed (nothing is stored).
   */
  async createLocalEvent(roomId: string, template: LocalEventTemplate): Promise<Pdu> {
    return this.#durably(() => this.#doCreateLocalEvent(roomId, template));
  }

  async #doCreateLocalEvent(roomId: string, template: LocalEventTemplate): Promise<Pdu> {
    await this.#ready();
    return this.#withRoom(roomId, async () => {
      const room = await this.#store.getRoom(roomId);
      if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
      const rules = this.#versions.get(room.roomVersion);
      const frame = await this.#eventFrame(room, rules, template);
      const pdu = buildEvent({
        roomVersion: rules,
        type: template.type,
        ...(template.stateKey !== undefined ? { stateKey: template.stateKey } : {}),
        sender: template.sender,
        content: template.content,
        prevEvents: frame.prevEvents,
        authEvents: frame.authEvents,
        depth: frame.depth,
        originServerTs: template.originServerTs ?? this.#now(),
        roomId,
        ...(template.redacts !== undefined ? { redacts: template.redacts } : {}),
      }, this.#signer());
      const outcome = await this.#processLocal(pdu, rules, roomId);
      if (outcome.status !== 'accepted') {
        throw new EngineError('ENGINE_AUTH_FAILED', `local event ${outcome.status}: ${outcome.reason ?? ''}`, outcome.rule);
      }
      return pdu;
    });
  }

  /**
   * Where a new event of `room` goes: its prev events (the given ones, else the forward
   * extremities; the deepest `maxPrevEvents`), its auth events (selected from the current state,
   * SS › Auth events selection) and its depth. Used by `createLocalEvent` and `make_join`.
   */
  async #eventFrame(
    room: RoomInfo, rules: RoomVersionRules,
    template: { readonly type: string; readonly stateKey?: string; readonly sender: string; readonly content: JsonObject; readonly prevEvents?: readonly string[] },
  ): Promise<{ readonly prevEvents: RoomEvent[]; readonly authEvents: RoomEvent[]; readonly depth: number }> {
    const prevIds = template.prevEvents ?? room.forwardExtremities;
    const prevs = [...(await this.#store.getEvents(prevIds)).values()]
      .sort((a, b) => b.depth - a.depth || (a.eventId < b.eventId ? -1 : 1))
      .slice(0, this.#maxPrev);
    if (prevs.length === 0) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'no prev events');
    const current = stored(room.currentState ?? null);
    const skeleton = { type: template.type, stateKey: template.stateKey, sender: template.sender, content: template.content };
    const authMap = await this.#loadAuthState(this.#store, rules, current, toRoomEvent({ ...skeleton, state_key: template.stateKey ?? null, content: template.content } as unknown as JsonObject, rules, ''));
    const authEvents: RoomEvent[] = [];
    for (const [t, k] of authEventTypes(skeleton, rules)) {
      const e = authMap.get(t, k);
      if (e !== undefined && !authEvents.includes(e)) authEvents.push(e);
    }
    const maxDepth = Math.max(...prevs.map((p) => p.depth));
    return { prevEvents: prevs.map((p) => this.#view(p, rules)), authEvents, depth: Math.min(maxDepth + 1, Number.MAX_SAFE_INTEGER) };
  }


  /**
   * Local events run the receipt pipeline without the signature stage (they are ours) and without
   * the soft-fail check (they are built where the caller says); a rejected one stores nothing.
   */
  async #processLocal(pdu: Pdu, rules: RoomVersionRules, roomId: string): Promise<Outcome> {
    return this.#process(this.serverName, pdu, rules, roomId, 0, false, undefined, { trusted: true, local: true });
  }

  /**
   * Creates a room: the create event, the creator's join, power levels, join rules and history
   * visibility, all signed by this server. Returns the room ID.
   */
  async createRoom(template: CreateRoomTemplate): Promise<string> {
    return this.#durably(() => this.#doCreateRoom(template));
  }

  async #doCreateRoom(template: CreateRoomTemplate): Promise<string> {
    await this.#ready();
    const version = template.roomVersion ?? DEFAULT_ROOM_VERSION;
    const rules = this.#versions.get(version);
    const server = domainOf(template.creator);
    if (server !== this.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `creator ${template.creator} is not a user of ${this.serverName}`);
    const createContent: Record<string, JsonValue> = { ...(template.createContent ?? {}), room_version: version };
    if (rules.authorization.creatorInContent) createContent['creator'] = template.creator;
    let roomId: string | undefined;
    if (rules.eventFormat.createEventHasRoomId) {
      roomId = `!${template.roomIdLocalpart ?? encodeBase64(crypto.getRandomValues(new Uint8Array(12))).replace(/[+/]/g, 'x')}:${this.serverName}`;
    }
    const create = buildEvent({
      roomVersion: rules, type: 'm.room.create', stateKey: '', sender: template.creator, content: createContent,
      prevEvents: [], authEvents: [], depth: 1, originServerTs: this.#now(), ...(roomId !== undefined ? { roomId } : {}),
    }, this.#signer());
    roomId ??= roomIdFromCreateEvent(create.json, rules);
    const rid = roomId;
    await this.#withRoom(rid, async () => {
      const o = await this.#processLocal(create, rules, rid);
      if (o.status !== 'accepted') throw new EngineError('ENGINE_AUTH_FAILED', `create event ${o.status}: ${o.reason ?? ''}`, o.rule);
    });
    await this.createLocalEvent(rid, { type: 'm.room.member', stateKey: template.creator, sender: template.creator, content: { membership: 'join' } });
    const pl: JsonObject = template.powerLevels ?? (rules.authorization.privilegedCreators
      ? { users: {}, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 }
      : { users: { [template.creator]: 100 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 });
    await this.createLocalEvent(rid, { type: 'm.room.power_levels', stateKey: '', sender: template.creator, content: pl });
    await this.createLocalEvent(rid, { type: 'm.room.join_rules', stateKey: '', sender: template.creator, content: { join_rule: template.joinRule ?? 'public' } });
    await this.createLocalEvent(rid, { type: 'm.room.history_visibility', stateKey: '', sender: template.creator, content: { history_visibility: 'shared' } });
    return rid;
  }

  /**
   * Joins a room hosted on `via` over federation (SS › Joining Rooms): `make_join` for a template
   * (checked: type, room, sender, state key and membership are the ones asked for), filled in
   * (`origin_server_ts`, `origin` when the template has one, the v1–v2 `event_id`), hashed and
   * signed by this server, then `send_join`. The answer's state and auth chain are checked like
   * any received events (signatures, hashes, auth against their auth events) and stored as
   * outliers; the join event is then accepted with the answer's state as the state before it.
   * For a restricted room the resident's countersigned join (`event` in the answer) is used.
   * Already in the room (this server has its current state): sends the join as a local event.
   *
   * @param options - `content`: extra member-event content (e.g. `displayname`); `membership` is always `join`.
   * @throws {@link EngineError} `ENGINE_JOIN_REFUSED` when the resident refuses (the Matrix
   *   `errcode` is in the message and `rule`), `ENGINE_UNKNOWN_ROOM` for an unusable answer,
   *   `ENGINE_AUTH_FAILED` when the join does not pass auth here.
   */
  async joinRemoteRoom(roomId: string, via: string, userId: string, options?: { readonly content?: JsonObject }): Promise<PduOutcome> {
    return this.#durably(() => this.#doJoinRemoteRoom(roomId, via, userId, options));
  }

  async #doJoinRemoteRoom(roomId: string, via: string, userId: string, options?: { readonly content?: JsonObject }): Promise<PduOutcome> {
    await this.#ready();
    const t = this.#transport;
    if (t === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'joining over federation needs a transport');
    if (domainOf(userId) !== this.serverName) throw new EngineError('ENGINE_INVALID_ARGUMENT', `${userId} is not a user of ${this.serverName}`);
    const content: JsonObject = { ...(options?.content ?? {}), membership: 'join' };
    const known = await this.#store.getRoom(roomId);
    if (known !== undefined && known.currentState !== undefined) {
      // Already resident: an ordinary local event, pushed to the other servers in the room.
      const pdu = await this.#doCreateLocalEvent(roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content });
      await this.#flushForSend();
      await this.#sendToRoom(roomId, [pdu.json]);
      return { eventId: pdu.eventId, status: 'accepted' };
    }
    const refused = (e: unknown): EngineError => {
      if (e instanceof TransportError) return new EngineError('ENGINE_JOIN_REFUSED', `${via} refused the join: ${e.errcode ?? e.code}: ${e.message}`, e.errcode ?? e.code);
      return new EngineError('ENGINE_JOIN_REFUSED', `${via} refused the join: ${String((e as Error)?.message ?? e)}`);
    };

    // make_join: a template from the resident.
    const made = await t.makeJoin(via, roomId, userId, this.#versions.list().map((r) => r.id)).catch((e: unknown) => { throw refused(e); });
    if (!this.#versions.has(made.roomVersion)) throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} answered with unsupported room version ${JSON.stringify(made.roomVersion)}`);
    const rules = this.#versions.get(made.roomVersion);
    const tpl = made.event;
    if (!isJoinTemplateFor(tpl, roomId, userId)) {
      throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent a join template for another event (SS › Joining Rooms: type, room_id, sender, state_key and membership must be as asked)`);
    }

    // Fill in, hash and sign.
    const ev = fillJoinTemplate(tpl, rules, { serverName: this.serverName, now: this.#now(), content });
    let join: Pdu;
    try {
      join = parsePdu(hashAndSignEvent(ev, rules, this.#signer()).event, rules);
    } catch (e) {
      throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} sent an unusable join template: ${String(e).slice(0, 300)}`);
    }

    // send_join: the state before the join and its auth chain.
    const answer = await t.sendJoin(via, roomId, join.eventId, join.json).catch((e: unknown) => { throw refused(e); });
    if (answer.event !== undefined) {
      // A restricted join countersigned by the resident: the same event (same ID) with more signatures.
      let signed: Pdu | undefined;
      try { signed = parsePdu(answer.event, rules); } catch { signed = undefined; }
      if (signed === undefined || signed.eventId !== join.eventId) throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} returned a different join event`);
      join = signed;
    }
    return this.#importJoin(via, rules, roomId, join, answer.state, answer.authChain);
  }

  /**
   * Stores a joined room's state from a `send_join` answer: the create event, then the auth chain
   * and state as outliers (each checked: format, signatures, hash, auth against its auth events),
   * then `join` with the answer's state as the state before it.
   */
  async #importJoin(via: string, rules: RoomVersionRules, roomId: string, join: Pdu, state: readonly JsonObject[], authChain: readonly JsonObject[]): Promise<PduOutcome> {
    const parsed: Pdu[] = [];
    const seen = new Set<string>();
    for (const j of [...authChain, ...state]) {
      try {
        const p = parsePdu(j, rules);
        if (!seen.has(p.eventId)) { seen.add(p.eventId); parsed.push(p); }
      } catch { /* malformed: left out (its dependants then fail auth) */ }
    }
    const create = parsed.find((p) => p.type === 'm.room.create' && p.stateKey === '');
    const createVersion = create !== undefined ? (create.content['room_version'] ?? '1') : undefined;
    if (create === undefined || createVersion !== rules.id || (create.roomId ?? roomIdFromCreateEvent(create.json, rules)) !== roomId) {
      throw new EngineError('ENGINE_UNKNOWN_ROOM', `${via} gave no create event of ${roomId} in room version ${rules.id}`);
    }
    const stateIds = new Set<string>();
    for (const j of state) { try { stateIds.add(parsePdu(j, rules).eventId); } catch { /* left out above */ } }
    return this.#withRoom(roomId, async () => {
      // The create event first (it creates the room in the store), then the rest by depth.
      const c = await this.#process(via, create, rules, roomId, 1, true);
      if (c.status !== 'outlier') throw new EngineError('ENGINE_UNKNOWN_ROOM', `create event of ${roomId} ${c.status}: ${c.reason ?? ''}`);
      const rest = parsed.filter((p) => p !== create).sort((a, b) => a.depth - b.depth || (a.eventId < b.eventId ? -1 : 1));
      for (const p of rest) await this.#process(via, p, rules, roomId, 1, true);
      // The state before the join: the answer's state events that are stored and not rejected.
      const got = await this.#store.getEvents([...stateIds]);
      const o = await this.#process(via, join, rules, roomId, 1, false, { base: null, overlay: overlayOf(got.values()) });
      if (o.status !== 'accepted') throw new EngineError('ENGINE_AUTH_FAILED', `join ${join.eventId} ${o.status}: ${o.reason ?? ''}`, o.rule);
      return o;
    });
  }


  /**
   * The room's backward extremities: events referenced as `prev_events` by its stored (non-outlier)
   * events but not stored themselves, or stored only as outliers — where its known history ends
   * (the starting points of a backfill). Deepest referencing events first. Reads the room's
   * timeline (O(events)).
   */
  async backwardExtremities(roomId: string): Promise<string[]> {
    await this.#ready();
    const depthOfChild = new Map<string, number>();
    let from: number | undefined;
    for (;;) {
      const page = await this.#store.timeline(roomId, { limit: 2000, statuses: ['accepted', 'soft-failed', 'rejected'], ...(from !== undefined ? { from } : {}) });
      for (const e of page) for (const p of e.prevEvents) depthOfChild.set(p, Math.max(depthOfChild.get(p) ?? -1, e.depth));
      if (page.length < 2000) break;
      from = page[page.length - 1]!.stream + 1;
    }
    const known = await this.#store.getEvents([...depthOfChild.keys()]);
    return [...depthOfChild]
      .filter(([id]) => { const e = known.get(id); return e === undefined || e.status === 'outlier'; })
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([id]) => id);
  }

  /**
   * Fetches older history of a room from `via` (SS › Backfilling, `GET /backfill`): up to
   * `limit` (default 50) events from `from` (default: the backward extremities, at most 20)
   * backwards. They run through the receipt checks oldest first — without the 20 prev / 10 auth
   * event limits, which backfilled events must not be held to (api:backfill) — taking their state
   * from their prev events, or from `via`'s `state_ids` where those are unknown. Backfilled events
   * are not soft-fail checked and never move the forward extremities or the current state (as in
   * Synapse); outliers among them (e.g. state from a join) are promoted. Returns an outcome per
   * event received, oldest first.
   */
  async backfill(roomId: string, via: string, options?: { readonly limit?: number; readonly from?: readonly string[] }): Promise<PduOutcome[]> {
    return this.#durably(() => this.#doBackfill(roomId, via, options));
  }

  async #doBackfill(roomId: string, via: string, options?: { readonly limit?: number; readonly from?: readonly string[] }): Promise<PduOutcome[]> {
    await this.#ready();
    const t = this.#transport;
    if (t === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', 'backfilling needs a transport');
    const room = await this.#store.getRoom(roomId);
    if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
    const rules = this.#versions.get(room.roomVersion);
    const limit = Math.max(1, Math.min(options?.limit ?? 50, 1000));
    const from = (options?.from ?? (await this.backwardExtremities(roomId))).slice(0, 20);
    if (from.length === 0) return [];
    const got = await t.backfill(via, roomId, from, limit).catch(() => [] as readonly JsonObject[]);
    const out: PduOutcome[] = [];
    const pdus: Pdu[] = [];
    for (const j of got.slice(0, limit)) {
      try {
        const p = parsePdu(j, rules, { skipReferenceLimits: true });
        if ((p.roomId ?? roomIdFromCreateEvent(p.json, rules)) !== roomId) {
          out.push({ eventId: p.eventId, status: 'dropped', rule: 'room_id', reason: `not an event of ${roomId}` });
          continue;
        }
        pdus.push(p);
      } catch (e) {
        out.push({ eventId: eventIdOrEmpty(j, rules), status: 'dropped', rule: 'format', reason: String((e as Error)?.message ?? e).slice(0, 500) });
      }
    }
    pdus.sort((a, b) => a.depth - b.depth || (a.eventId < b.eventId ? -1 : 1));
    await this.#withRoom(roomId, async () => {
      for (const p of pdus) out.push(await this.#process(via, p, rules, roomId, 1, false, undefined, { backfilled: true }));
    });
    return out;
  }

  /** Stores an event as an outlier (known without its state): format, signatures, hash and auth against its auth events are checked. */
  async receiveOutlier(origin: string, json: unknown, rules: RoomVersionRules, roomId: string): Promise<PduOutcome> {
    return this.#durably(() => this.#doReceiveOutlier(origin, json, rules, roomId));
  }

  async #doReceiveOutlier(origin: string, json: unknown, rules: RoomVersionRules, roomId: string): Promise<PduOutcome> {
    await this.#ready();
    if (!isObject(json)) return { eventId: '', status: 'dropped', rule: 'format', reason: 'not an object' };
    let pdu: Pdu;
    try { pdu = parsePdu(json, rules); } catch (e) { return { eventId: '', status: 'dropped', rule: 'format', reason: String(e) }; }
    const rid = pdu.roomId ?? roomId;
    return this.#withRoom(rid, () => this.#process(origin, pdu, rules, rid, 1, true));
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  /** An event by ID (the stored record), or `undefined`. */
  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    await this.#ready();
    return this.#store.getEvent(eventId);
  }

  /** The state before (default) or after an event, as (type, state_key) → event ID. */
  async stateAt(eventId: string, options?: { readonly after?: boolean }): Promise<Map<string, string>> {
    await this.#ready();
    const e = await this.#store.getEvent(eventId);
    if (e === undefined || e.stateBefore === undefined) throw new EngineError('ENGINE_UNKNOWN_EVENT', `no state known at ${eventId}`);
    return materialise(this.#store, options?.after === true ? this.#stateAfter(e) : stored(e.stateBefore));
  }

  /** The room's current state as (type, state_key) key → event ID. */
  async currentState(roomId: string): Promise<Map<string, string>> {
    await this.#ready();
    const room = await this.#store.getRoom(roomId);
    if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
    return materialise(this.#store, stored(room.currentState ?? null));
  }

  /** The forward extremities of a room (sorted). */
  async forwardExtremities(roomId: string): Promise<string[]> {
    await this.#ready();
    const room = await this.#store.getRoom(roomId);
    if (room === undefined) throw new EngineError('ENGINE_UNKNOWN_ROOM', `unknown room ${roomId}`);
    return [...room.forwardExtremities].sort();
  }

  /** The membership of `userId` in the room's current state (`undefined` = none). */
  async membership(roomId: string, userId: string): Promise<string | undefined> {
    await this.#ready();
    const room = await this.#store.getRoom(roomId);
    if (room === undefined) return undefined;
    const m = (await this.#currentEvent(room, this.#versions.get(room.roomVersion), 'm.room.member', userId))?.content['membership'];
    return typeof m === 'string' ? m : undefined;
  }

  /** The full auth chain of events. */
  async authChain(eventIds: readonly string[]): Promise<ReadonlySet<string>> {
    await this.#ready();
    return this.#store.getAuthChain(eventIds);
  }

  /** Events of a room in stream (arrival) order. */
  async timeline(roomId: string, options?: { readonly from?: number; readonly limit?: number; readonly direction?: 'forwards' | 'backwards' }): Promise<readonly StoredEvent[]> {
    await this.#ready();
    return this.#store.timeline(roomId, options);
  }

  /** Events of a room (non-outliers) in topological order: by depth, then stream order. */
  async topologicalOrder(roomId: string): Promise<StoredEvent[]> {
    await this.#ready();
    const all: StoredEvent[] = [];
    let from: number | undefined;
    for (;;) {
      const page = await this.#store.timeline(roomId, { ...(from !== undefined ? { from } : {}), limit: 1000 });
      all.push(...page.filter((e) => e.status !== 'outlier'));
      if (page.length < 1000) break;
      from = (page[page.length - 1] as StoredEvent).stream + 1;
    }
    return all.sort((a, b) => a.depth - b.depth || a.stream - b.stream);
  }

  // ---------------------------------------------------------------------------------------------
  // Serving federation requests (FederationHandler)

  /** Whether every one of `ids` that is stored belongs to `roomId`. */
  async #inRoom(ids: readonly string[], roomId: string): Promise<boolean> {
    const got = await this.#store.getEvents(ids);
    for (const e of got.values()) if (e.roomId !== roomId) return false;
    return true;
  }

  /** Answers `GET /event/{eventId}` (federation handler): the stored PDU (outliers included), unless it was rejected. */
  async onGetEvent(_origin: string, eventId: string): Promise<JsonObject | undefined> {
    await this.#served();
    const e = await this.#store.getEvent(eventId);
    return e === undefined || isRejectedStatus(e) ? undefined : e.json;
  }

  /** Answers `POST /get_missing_events/{roomId}` (federation handler): events of the room between `earliestEvents` and `latestEvents`, oldest first, bounded by `limit`. */
  async onGetMissingEvents(_origin: string, roomId: string, request: MissingEventsRequest): Promise<readonly JsonObject[]> {
    await this.#served();
    // Only events of the requested room are served (never walk into another room's events).
    if (!(await this.#inRoom(request.latestEvents, roomId))) return [];
    const earliest = new Set(request.earliestEvents);
    const seen = new Set<string>(request.latestEvents);
    const out: StoredEvent[] = [];
    let frontier = [...request.latestEvents];
    while (frontier.length > 0 && out.length < request.limit) {
      const got = await this.#store.getEvents(frontier);
      const next: string[] = [];
      for (const id of frontier) {
        const e = got.get(id);
        if (e === undefined) continue;
        for (const p of e.prevEvents) {
          if (seen.has(p) || earliest.has(p)) continue;
          seen.add(p);
          next.push(p);
        }
      }
      const nextGot = await this.#store.getEvents(next);
      for (const id of next) {
        const e = nextGot.get(id);
        if (e !== undefined && e.status !== 'outlier' && !isRejectedStatus(e) && e.depth >= (request.minDepth ?? 0) && out.length < request.limit) out.push(e);
      }
      frontier = next;
    }
    return out.sort((a, b) => a.depth - b.depth || a.stream - b.stream).map((e) => e.json);
  }

  /** Answers `GET /state_ids/{roomId}?event_id=` (federation handler): the IDs of the state before the event and of its auth chain. */
  async onGetStateIds(_origin: string, roomId: string, eventId: string): Promise<StateIdsResponse> {
    await this.#served();
    const e = await this.#store.getEvent(eventId);
    if (e === undefined || e.stateBefore === undefined || e.roomId !== roomId) return { pduIds: [], authChainIds: [] };
    const state = await this.#store.loadState(e.stateBefore);
    const pduIds = [...state.values()];
    const chain = await this.#store.getAuthChain(pduIds);
    return { pduIds, authChainIds: [...chain] };
  }

  /** Answers `GET /state/{roomId}?event_id=` (federation handler): the state before the event and its auth chain, as PDUs. */
  async onGetState(origin: string, roomId: string, eventId: string): Promise<StateResponse> {
    const ids = await this.onGetStateIds(origin, roomId, eventId);
    const pdus = await this.#store.getEvents(ids.pduIds);
    const chain = await this.#store.getEvents(ids.authChainIds);
    return { pdus: [...pdus.values()].map((e) => e.json), authChain: [...chain.values()].map((e) => e.json) };
  }

  /** Answers `GET /backfill/{roomId}` (federation handler): the given events and their predecessors, newest first, up to `limit`. */
  async onBackfill(_origin: string, roomId: string, fromEventIds: readonly string[], limit: number): Promise<readonly JsonObject[]> {
    await this.#served();
    if (!(await this.#inRoom(fromEventIds, roomId))) return [];
    const seen = new Set<string>();
    const out: StoredEvent[] = [];
    let frontier = [...fromEventIds];
    while (frontier.length > 0 && out.length < limit) {
      const got = await this.#store.getEvents(frontier.filter((x) => !seen.has(x)));
      const next: string[] = [];
      for (const id of frontier) {
        if (seen.has(id)) continue;
        seen.add(id);
        const e = got.get(id);
        if (e === undefined || e.status === 'outlier' || isRejectedStatus(e)) continue;
        if (out.length < limit) out.push(e);
        next.push(...e.prevEvents);
      }
      frontier = next;
    }
    return out.sort((a, b) => b.depth - a.depth || b.stream - a.stream).map((e) => e.json);
  }

  /** A `TRANSPORT_REJECTED` error answering a federation request with a Matrix `errcode`. */
  #refuse(errcode: string, message: string): TransportError {
    return new TransportError('TRANSPORT_REJECTED', this.serverName, message, errcode);
  }

  /** The current-state event of `(type, stateKey)` in `room`, if any. */
  async #currentEvent(room: RoomInfo, rules: RoomVersionRules, type: string, stateKey: string): Promise<RoomEvent | undefined> {
    if (room.currentState === undefined) return undefined;
    const [id] = await this.#store.getStateEntries(room.currentState, [stateKeyOf(type, stateKey)]);
    const e = id === undefined ? undefined : await this.#store.getEvent(id);
    return e === undefined ? undefined : this.#view(e, rules);
  }

  /** What the restricted-join decision (join.ts) reads of this server's rooms. */
  #restrictedJoinContext(): RestrictedJoinContext {
    const store = this.#store;
    const roomOf = async (roomId: string): Promise<RoomInfo | undefined> => {
      const r = await store.getRoom(roomId);
      return r?.currentState === undefined ? undefined : r;
    };
    const serverName = this.serverName;
    return {
      serverName,
      knowsRoom: async (roomId) => (await roomOf(roomId)) !== undefined,
      currentEvent: async (roomId, type, stateKey) => {
        const r = await roomOf(roomId);
        return r === undefined ? undefined : this.#currentEvent(r, this.#versions.get(r.roomVersion), type, stateKey);
      },
      localMembers: (roomId) => {
        const members = this.#joinedMembers.bind(this);
        return (async function* () {
          const r = await roomOf(roomId);
          if (r !== undefined) yield* members(r.currentState!, (user) => user.endsWith(`:${serverName}`));
        })();
      },
    };
  }


  /**
   * The servers with joined members in the room's current state. Counted once per room from the
   * member list (O(members)), then kept current from state diffs (O(changes)): a join in a
   * 100k-member room does not re-read every member.
   */
  async #serversInRoom(roomId: string): Promise<Set<string>> {
    const room = await this.#store.getRoom(roomId);
    if (room?.currentState === undefined) return new Set();
    const prefix = stateKeyOf('m.room.member', '');
    const joinedServer = (e: StoredEvent | undefined): string | undefined => {
      const user = joinedUser(e);
      return user === undefined ? undefined : domainOf(user);
    };
    const add = (counts: Map<string, number>, server: string | undefined, by: number): void => {
      if (server === undefined) return;
      const n = (counts.get(server) ?? 0) + by;
      if (n > 0) counts.set(server, n);
      else counts.delete(server);
    };
    let cached = this.#serverCounts.get(roomId);
    if (cached === undefined || (cached.snapshot !== room.currentState && !(await this.#advanceServerCounts(cached, room.currentState, prefix, joinedServer, add)))) {
      const counts = new Map<string, number>();
      for await (const user of this.#joinedMembers(room.currentState, () => true)) add(counts, domainOf(user), 1);
      cached = { snapshot: room.currentState, counts };
      this.#serverCounts.set(roomId, cached);
    }
    return new Set(cached.counts.keys());
  }

  /**
   * The joined members of a state (those `keep` accepts): the member list is read once
   * (O(members)); their events are fetched in batches as the caller iterates, so a caller that
   * stops at the first one reads little.
   */
  async *#joinedMembers(snapshot: SnapshotId, keep: (userId: string) => boolean): AsyncGenerator<string> {
    const prefix = stateKeyOf('m.room.member', '');
    const ids: string[] = [];
    for (const [key, id] of await this.#store.loadState(snapshot)) if (key.startsWith(prefix) && keep(key.slice(prefix.length))) ids.push(id);
    for (let i = 0; i < ids.length; i += 512) {
      for (const e of (await this.#store.getEvents(ids.slice(i, i + 512))).values()) {
        const user = joinedUser(e);
        if (user !== undefined) yield user;
      }
    }
  }

  /** Moves cached server counts from their snapshot to `to` through the state diff; `false` when the diff is too large to be worth it. */
  async #advanceServerCounts(
    cached: { snapshot: SnapshotId; counts: Map<string, number> }, to: SnapshotId, prefix: string,
    joinedServer: (e: StoredEvent | undefined) => string | undefined, add: (c: Map<string, number>, s: string | undefined, by: number) => void,
  ): Promise<boolean> {
    const diff = await this.#store.diffStates(cached.snapshot, to);
    if (diff.size > 10_000) return false;
    const changed = [...diff].filter(([k]) => k.startsWith(prefix));
    const ids = changed.flatMap(([, [a, b]]) => [a, b]).filter((x): x is string => x !== undefined);
    const events = await this.#store.getEvents(ids);
    for (const [, [a, b]] of changed) {
      add(cached.counts, joinedServer(a === undefined ? undefined : events.get(a)), -1);
      add(cached.counts, joinedServer(b === undefined ? undefined : events.get(b)), 1);
    }
    cached.snapshot = to;
    return true;
  }


  /** Pushes PDUs to every other server in the room, except `skip` (best effort). */
  async #sendToRoom(roomId: string, pdus: readonly JsonObject[], skip: readonly string[] = []): Promise<void> {
    const t = this.#transport;
    if (t === undefined) return;
    const servers = await this.#serversInRoom(roomId);
    for (const x of [this.serverName, ...skip]) servers.delete(x);
    await Promise.all([...servers].map((d) => t.sendPdus(d, pdus).catch(() => undefined)));
  }

  /** Answers `GET /make_join/{roomId}/{userId}` (federation handler): a join template, or a `TRANSPORT_REJECTED` error with the Matrix errcode (see the package README, Joining over federation). */
  async onMakeJoin(origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeJoinResponse> {
    await this.#served();
    const known = await this.#store.getRoom(roomId);
    if (known === undefined || known.currentState === undefined) throw this.#refuse('M_NOT_FOUND', `${this.serverName} is not in ${roomId}`);
    if (!supportedVersions.includes(known.roomVersion)) {
      throw this.#refuse('M_INCOMPATIBLE_ROOM_VERSION', `${roomId} has room version ${known.roomVersion}, which ${origin} does not support`);
    }
    if (domainOf(userId) !== origin) throw this.#refuse('M_FORBIDDEN', `${userId} is not a user of ${origin}`);
    const rules = this.#versions.get(known.roomVersion);
    return this.#withRoom(roomId, async () => {
      const room = (await this.#store.getRoom(roomId)) ?? known;
      const content: Record<string, JsonValue> = { membership: 'join' };
      const vouch = await authoriseRestrictedJoin(this.#restrictedJoinContext(), roomId, rules, userId);
      if (vouch !== undefined) content['join_authorised_via_users_server'] = vouch;
      const frame = await this.#eventFrame(room, rules, { type: 'm.room.member', stateKey: userId, sender: userId, content });
      // The join as it would be (countersigned by this server, which a restricted join needs),
      // checked against the current state: a join that would be rejected is refused now.
      const trial = buildEvent({
        roomVersion: rules, type: 'm.room.member', stateKey: userId, sender: userId, content,
        prevEvents: frame.prevEvents, authEvents: frame.authEvents, depth: frame.depth, originServerTs: this.#now(), roomId,
      }, this.#signer(), { validate: false });
      const view = toRoomEvent(trial.json, rules, trial.eventId);
      const auth = await this.#loadAuthState(this.#store, rules, stored(room.currentState ?? null), view);
      const r = checkAuth(view, auth, rules, { serverKeys: await this.#authorisingKeys(view, rules) });
      if (!r.allowed) throw this.#refuse('M_FORBIDDEN', `${userId} may not join ${roomId}: ${r.rule}: ${r.reason}`);
      const event: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(trial.json)) if (k !== 'hashes' && k !== 'signatures' && k !== 'event_id') event[k] = v as JsonValue;
      return { roomVersion: rules.id, event };
    });
  }

  /** Answers `PUT /v2/send_join/{roomId}/{eventId}` (federation handler): checks and accepts the join, answers with the state before it and the auth chain, and pushes the join to the room's other servers. */
  async onSendJoin(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendJoinResponse> {
    await this.#served();
    const room = await this.#store.getRoom(roomId);
    if (room === undefined || room.currentState === undefined) throw this.#refuse('M_NOT_FOUND', `${this.serverName} is not in ${roomId}`);
    const rules = this.#versions.get(room.roomVersion);
    let pdu: Pdu;
    try {
      pdu = parsePdu(event, rules);
    } catch (e) {
      throw this.#refuse('M_BAD_JSON', `not a valid PDU of room version ${rules.id}: ${String(e).slice(0, 300)}`);
    }
    // Server-Server API › Joining Rooms (`send_join` v2): the checks before accepting the event.
    const membership = pdu.content['membership'];
    if (pdu.eventId !== eventId) throw this.#refuse('M_INVALID_PARAM', `the event's ID is ${pdu.eventId}, not ${eventId}`);
    if (pdu.roomId !== roomId) throw this.#refuse('M_INVALID_PARAM', `the event is for ${String(pdu.roomId)}, not ${roomId}`);
    if (pdu.type !== 'm.room.member' || membership !== 'join') throw this.#refuse('M_INVALID_PARAM', 'not a join event');
    if (domainOf(pdu.sender) !== origin) throw this.#refuse('M_INVALID_PARAM', `${pdu.sender} is not a user of ${origin}`);
    if (pdu.stateKey !== pdu.sender) throw this.#refuse('M_INVALID_PARAM', 'the state key is not the sender');
    // A restricted join this server vouches for gets its signature before it is stored or sent on.
    const vouch = pdu.content['join_authorised_via_users_server'];
    const countersign = typeof vouch === 'string' && domainOf(vouch) === this.serverName && rules.authorization.restrictedJoinRule;
    const json = countersign ? addEventSignature(pdu.json, rules, this.#signer()) : pdu.json;
    const [o] = await this.receivePdus(origin, [json]);
    if (o === undefined || o.status !== 'accepted') {
      const why = `${o?.status ?? 'dropped'}: ${o?.rule ?? ''} ${o?.reason ?? ''}`.trim();
      throw this.#refuse(o?.status === 'dropped' ? 'M_INVALID_PARAM' : 'M_FORBIDDEN', `the join was not accepted (${why})`);
    }
    // The state before the join and the auth chains of that state and of the join.
    const before = await this.stateAt(pdu.eventId);
    const stateEvents = await this.#store.getEvents([...before.values()]);
    const chain = await this.#store.getAuthChain([...before.values(), pdu.eventId]);
    const chainEvents = await this.#store.getEvents([...chain]);
    const answer: SendJoinResponse = {
      state: [...stateEvents.values()].map((e) => e.json),
      authChain: [...chainEvents.values()].map((e) => e.json),
      ...(countersign ? { event: json } : {}),
    };
    // The resident sends the join to the other servers in the room (best effort).
    await this.#sendToRoom(roomId, [json], [origin]);
    return answer;
  }

  /** Answers `GET /_matrix/key/v2/server` (federation handler): this server's self-signed key object. */
  async onGetServerKeys(): Promise<JsonObject> {
    const { key } = this.#signer();
    const body: JsonObject = {
      server_name: this.serverName,
      valid_until_ts: this.#now() + 7 * 24 * 3600 * 1000,
      verify_keys: { [key.keyId]: { key: encodeBase64(key.publicKey) } },
      old_verify_keys: {},
    };
    return signJson(body, this.serverName, key);
  }

  /** Receives pushed PDUs, `PUT /send/{txnId}` (federation handler): per-event results, an error for dropped, rejected or parked events. */
  async onReceivePdus(origin: string, pdus: readonly JsonObject[]): Promise<Readonly<Record<string, { readonly error?: string }>>> {
    const res: Record<string, { error?: string }> = {};
    for (const o of await this.receivePdus(origin, pdus)) {
      if (o.eventId === '') continue;
      res[o.eventId] = o.status === 'accepted' || o.status === 'soft-failed' || o.status === 'outlier' ? {} : { error: `${o.status}: ${o.rule ?? ''} ${o.reason ?? ''}`.trim() };
    }
    return res;
  }

  /** Sends this server's new events of a room to other servers (best effort). */
  async sendToServers(destinations: readonly string[], pdus: readonly Pdu[]): Promise<void> {
    const t = this.#transport;
    if (t === undefined) return;
    await Promise.all(destinations.filter((d) => d !== this.serverName).map((d) => t.sendPdus(d, pdus.map((p) => p.json)).catch(() => undefined)));
  }
}

/** Creates a {@link RoomEngine}. */
export function createRoomEngine(options: RoomEngineOptions): RoomEngine {
  return new RoomEngine(options);
}

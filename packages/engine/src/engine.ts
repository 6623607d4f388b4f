/**
 * The room engine's facade: the public API of {@link RoomEngine}, which builds an
 * {@link EngineContext} and delegates each call to the module implementing its spec algorithm
 * (see `docs/architecture.md` for the map):
 *
 * - receiving PDUs — `receipt/` (Server-Server API › Checks performed on receipt of a PDU);
 * - missing events — `missing/`; state — `state/`; local events and rooms — `local/`;
 * - joining — `join/` (› Joining Rooms); backfill — `backfill.ts` (› Backfilling);
 * - serving other servers — `federation/` and `join/`; reads — `queries.ts`;
 * - durability, notifications and per-room locks — `runtime/`.
 *
 * It depends only on the {@link RoomStore}, {@link Transport} and {@link KeySource} interfaces.
 *
 * @module
 */
import type { JsonObject } from '@roomgraph/canonical-json';
import { type Pdu, domainOf } from '@roomgraph/events';
import { EngineError } from './errors.js';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import type { RoomStore, StoredEvent } from '@roomgraph/store';
import type {
  FederationHandler, FederationRefusal, InviteRequest, KeySource, MakeJoinResponse, MakeMembershipResponse, MissingEventsRequest, SendJoinResponse, SendKnockResponse,
  StateIdsResponse, StateResponse, Transport,
} from '@roomgraph/transport';
import type { ReceivedInvite } from './caches.js';
import * as backfilling from './backfill.js';
import { type EngineContext, createEngineContext } from './context.js';
import * as fedEvents from './federation/events.js';
import { onGetServerKeys } from './federation/keys.js';
import { distributeLocal, sendToServers } from './federation/servers.js';
import * as fedState from './federation/state.js';
import { onReceivePdus } from './federation/transactions.js';
import { inviteUser, onInvite } from './join/invite.js';
import { onMakeJoin } from './join/make-join.js';
import { onMakeMembership, onSendMembership, remoteMembership, strippedState } from './join/membership.js';
import { joinRemoteRoom } from './join/perform.js';
import { dropInvite, pendingInvite, pendingInvites } from './join/pending-invites.js';
import { onSendJoin } from './join/send-join.js';
import { createLocalEvent } from './local/create-event.js';
import { createRoom } from './local/create-room.js';
import * as queries from './queries.js';
import type { RoomState } from './room-state.js';
import { processPdu } from './receipt/pipeline.js';
import { receiveOne, receiveOutlier, receivePdusDurably } from './receipt/receive.js';
import type {
  CreateRoomTemplate, EngineNotification, LocalEventTemplate, PduOutcome, ReceiveOptions, RoomEngineOptions,
} from './types.js';

/** How often {@link RoomEngine.events} checks whether the store was closed while idle. */
const EVENTS_IDLE_POLL_MS = 50;

/**
 * A room engine for one server.
 *
 * **Opening.** `await RoomEngine.open(options)` builds an engine and opens its store (unless the
 * caller opened it already); the store is then open for the caller too (`engine.store.listRooms()`
 * works at once). `new RoomEngine(options)` / {@link createRoomEngine} only build one: either the
 * caller opened the store before, or calls `await engine.open()`; until then every call fails with
 * {@link EngineError} `ENGINE_NOT_OPEN`. The engine never opens a store implicitly.
 *
 * **Ownership.** The store belongs to the caller: {@link RoomEngine.close} leaves it open unless
 * the options say `ownsStore: true`.
 *
 * **Unknown rooms.** Every query about a room (`currentState`, `membership`, `forwardExtremities`,
 * `timeline`, `topologicalOrder`, `backwardExtremities`) throws {@link EngineError}
 * `ENGINE_UNKNOWN_ROOM` for a room the store does not hold; {@link RoomEngine.hasRoom} asks
 * without throwing. Lookups by event ID answer `undefined` (`getEvent`) or throw
 * `ENGINE_UNKNOWN_EVENT` (`stateAt`).
 *
 * Writes are serialised per room; each accepted, rejected or soft-failed event ends in exactly one
 * atomic store commit.
 */
export class RoomEngine implements FederationHandler {
  /** This server's name. */
  readonly serverName: string;
  readonly #ctx: EngineContext;
  readonly #ownsStore: boolean;

  /** Builds an engine without opening anything (see the class description: opening). */
  constructor(options: RoomEngineOptions) {
    this.serverName = options.serverName;
    this.#ownsStore = options.ownsStore === true;
    this.#ctx = createEngineContext(options, processPdu);
  }

  /**
   * Builds an engine and opens it ({@link RoomEngine.open}): the store is open when this resolves.
   * @throws the store's `StoreError` (e.g. `STORE_LOCKED`) when it cannot open.
   */
  static async open(options: RoomEngineOptions): Promise<RoomEngine> {
    const engine = new RoomEngine(options);
    await engine.open();
    return engine;
  }

  /**
   * Opens the engine: opens the store unless it is open already. Idempotent; calls made while it
   * runs wait for it.
   * @throws {@link EngineError} `ENGINE_CLOSED` after {@link RoomEngine.close}; the store's error when it cannot open.
   */
  async open(): Promise<void> {
    await this.#ctx.outbox.open();
  }

  /** The store this engine writes to (the caller's; see {@link RoomEngineOptions.ownsStore}). */
  get store(): RoomStore {
    return this.#ctx.store;
  }

  /** Subscribes to notifications (new events, state changes, soft-fails, rejections). Returns an unsubscribe function. */
  subscribe(listener: (n: EngineNotification) => void): () => void {
    return this.#ctx.outbox.subscribe(listener);
  }

  /** Notifications as an async iterable (until the engine or its store is closed). */
  events(): AsyncIterable<EngineNotification> {
    const queue: EngineNotification[] = [];
    let wake: (() => void) | undefined;
    const unsub = this.subscribe((n) => { queue.push(n); wake?.(); });
    const store = this.#ctx.store;
    const outbox = this.#ctx.outbox;
    return {
      [Symbol.asyncIterator](): AsyncIterator<EngineNotification> {
        return {
          async next(): Promise<IteratorResult<EngineNotification>> {
            while (queue.length === 0) {
              if (outbox.closed || store.status === 'closed') { unsub(); return { done: true, value: undefined }; }
              await new Promise<void>((r) => { wake = r; setTimeout(r, EVENTS_IDLE_POLL_MS); });
            }
            return { done: false, value: queue.shift() as EngineNotification };
          },
          async return(): Promise<IteratorResult<EngineNotification>> { unsub(); return { done: true, value: undefined }; },
        };
      },
    };
  }

  /**
   * Closes the engine after the work under way: later calls fail with `ENGINE_CLOSED`. The store
   * stays open — it is the caller's — unless {@link RoomEngineOptions.ownsStore} is `true`, in
   * which case it is closed too. Idempotent.
   */
  async close(): Promise<void> {
    await this.#ctx.locks.drain();
    this.#ctx.outbox.markClosed();
    if (this.#ownsStore) await this.#ctx.store.close();
  }

  // Receiving PDUs (receipt/)

  /**
   * Runs the receipt checks on each PDU, in order, as if each arrived from `origin`
   * (Server-Server API › Checks performed on receipt of a PDU): format (else dropped),
   * signatures (else dropped), content hash (else redacted), auth against its auth events (else
   * rejected), against the state before it (else rejected), against the current state (else
   * soft-failed). Never throws for bad input: every PDU gets an outcome.
   */
  async receivePdus(origin: string, pdus: readonly unknown[], options?: ReceiveOptions): Promise<PduOutcome[]> {
    return receivePdusDurably(this.#ctx, origin, pdus, options);
  }

  /** {@link receivePdus} for one PDU. */
  async receivePdu(origin: string, pdu: unknown, options?: ReceiveOptions): Promise<PduOutcome> {
    const ctx = this.#ctx;
    const trusted = options?.trusted === true;
    return ctx.outbox.durably(() => receiveOne(ctx, origin, pdu, trusted));
  }

  /** Stores an event as an outlier (known without its state): format, signatures, hash and auth against its auth events are checked. */
  async receiveOutlier(origin: string, json: unknown, rules: RoomVersionRules, roomId: string): Promise<PduOutcome> {
    return this.#ctx.outbox.durably(() => receiveOutlier(this.#ctx, origin, json, rules, roomId));
  }

  // Local events (local/)

  /**
   * Creates, signs, auth-checks and stores a local event in one step: prev_events = the forward
   * extremities (bounded, deepest first), auth events selected from the current state.
   * With a transport that has a durable queue (`queuePdus`), the event is then queued for every
   * other server in the room (and, for a membership change of another server's user, that server)
   * before this resolves; without one, push it with {@link sendToServers}.
   * @throws {@link EngineError} `ENGINE_AUTH_FAILED` when the event would be rejected or soft-failed (nothing is stored).
   */
  async createLocalEvent(roomId: string, template: LocalEventTemplate): Promise<Pdu> {
    const pdu = await this.#ctx.outbox.durably(() => createLocalEvent(this.#ctx, roomId, template));
    await distributeLocal(this.#ctx, roomId, pdu);
    return pdu;
  }

  /**
   * Leaves a room (Server-Server API › Leaving Rooms): where this server has the room's state, a
   * local leave event (queued for the room's servers); otherwise — an invite to reject — the
   * `make_leave` / `send_leave` handshake through `via` (default: the inviting server of a
   * remembered invite, else the room ID's server).
   * @throws {@link EngineError} `ENGINE_AUTH_FAILED`, `ENGINE_JOIN_REFUSED` (the resident refused), `ENGINE_INVALID_ARGUMENT`.
   */
  async leaveRoom(roomId: string, userId: string, options?: { readonly via?: string; readonly content?: JsonObject }): Promise<{ readonly eventId: string }> {
    const ctx = this.#ctx;
    await ctx.outbox.ready();
    const room = await ctx.store.getRoom(roomId);
    if (room?.currentState !== undefined && options?.via === undefined) {
      const pdu = await this.createLocalEvent(roomId, { type: 'm.room.member', stateKey: userId, sender: userId, content: { ...(options?.content ?? {}), membership: 'leave' } });
      return { eventId: pdu.eventId };
    }
    const invite = await pendingInvite(ctx, roomId, userId);
    const via = options?.via ?? (invite !== undefined ? domainOf(invite.sender) : undefined) ?? roomId.split(':').slice(1).join(':');
    if (via === '' || via === undefined) throw new EngineError('ENGINE_INVALID_ARGUMENT', `no server to leave ${roomId} through: give via`);
    const { pdu } = await remoteMembership(ctx, roomId, via, userId, 'leave', options?.content, (p) => ctx.transport!.sendLeave!(via, roomId, p.eventId, p.json));
    await dropInvite(ctx, roomId, userId);
    return { eventId: pdu.eventId };
  }

  /**
   * Invites `invitee` as `sender` (Server-Server API › Inviting to a room): a remote invitee's
   * server countersigns it first (`PUT /v2/invite`); the invite is then stored and queued for the
   * room's servers and the invitee's.
   * @throws {@link EngineError} `ENGINE_AUTH_FAILED`, `ENGINE_JOIN_REFUSED` (the invitee's server refused), `ENGINE_UNKNOWN_ROOM`.
   */
  async inviteUser(roomId: string, sender: string, invitee: string, options?: { readonly content?: JsonObject }): Promise<Pdu> {
    return this.#ctx.outbox.durably(() => inviteUser(this.#ctx, roomId, sender, invitee, options?.content));
  }

  /**
   * Knocks on a room through `via` (Server-Server API › Knocking upon a room: `make_knock` /
   * `send_knock`); resolves to the knock's event ID and the room's stripped state.
   * @throws {@link EngineError} `ENGINE_JOIN_REFUSED` (the resident refused), `ENGINE_UNKNOWN_ROOM`, `ENGINE_INVALID_ARGUMENT`.
   */
  async knockRoom(roomId: string, via: string, userId: string, options?: { readonly reason?: string }): Promise<{ readonly eventId: string; readonly knockRoomState: readonly JsonObject[] }> {
    const ctx = this.#ctx;
    await ctx.outbox.ready();
    const content: JsonObject | undefined = options?.reason !== undefined ? { reason: options.reason } : undefined;
    const { pdu, answer } = await remoteMembership(ctx, roomId, via, userId, 'knock', content, (p) => ctx.transport!.sendKnock!(via, roomId, p.eventId, p.json));
    return { eventId: pdu.eventId, knockRoomState: answer.knockRoomState };
  }

  /**
   * Invites received for local users (of rooms this server may not be in), newest last; for one
   * user when given. An invite stays pending until the user joins or leaves through this engine,
   * or a later membership event of theirs (joined, left, kicked, banned — deeper than the invite)
   * is stored. Kept in the store (they outlive a restart), the newest `limits.caches.invites`.
   */
  async pendingInvites(userId?: string): Promise<ReceivedInvite[]> {
    await this.#ctx.outbox.ready();
    return pendingInvites(this.#ctx, userId);
  }

  /**
   * Creates a room as Client-Server API › `POST /createRoom` does: the create event, the creator's
   * join, power levels, join rules, history visibility and guest access as the preset says
   * (default `private_chat`: invite only — pass `preset: 'public_chat'` for a room anyone may
   * join), all signed by this server; then the invites. Returns the room ID.
   * @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` (creator not of this server, unknown preset, bad invitee), `ENGINE_AUTH_FAILED`, `ENGINE_JOIN_REFUSED` (a remote invitee's server refused the invite; the room exists).
   */
  async createRoom(template: CreateRoomTemplate): Promise<string> {
    return this.#ctx.outbox.durably(() => createRoom(this.#ctx, template));
  }

  // Joining (join/) and backfill

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
    return this.#ctx.outbox.durably(() => joinRemoteRoom(this.#ctx, roomId, via, userId, options));
  }

  /**
   * The room's backward extremities: events referenced as `prev_events` by its stored (non-outlier)
   * events but not stored themselves, or stored only as outliers — where its known history ends
   * (the starting points of a backfill). Deepest referencing events first. Reads the room's
   * timeline (O(events)).
   */
  async backwardExtremities(roomId: string): Promise<string[]> {
    return backfilling.backwardExtremities(this.#ctx, roomId);
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
    return this.#ctx.outbox.durably(() => backfilling.backfill(this.#ctx, roomId, via, options));
  }

  // Queries (queries.ts)

  /** An event by ID (the stored record), or `undefined`. */
  async getEvent(eventId: string): Promise<StoredEvent | undefined> {
    return queries.getEvent(this.#ctx, eventId);
  }

  /**
   * The state before (default) or, with `{ after: true }`, after an event: type → state key →
   * event ID (the state after a state event that was not rejected holds the event itself).
   * @throws {@link EngineError} `ENGINE_UNKNOWN_EVENT` when the event is unknown or an outlier (no state known there).
   */
  async stateAt(eventId: string, options?: { readonly after?: boolean }): Promise<RoomState> {
    return queries.stateAt(this.#ctx, eventId, options);
  }

  /**
   * The room's current state: type → state key → event ID (`state.get('m.room.topic', '')`).
   * Empty while the room has no state yet (its events known only as outliers).
   * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
   */
  async currentState(roomId: string): Promise<RoomState> {
    return queries.currentState(this.#ctx, roomId);
  }

  /** Whether the store holds the room (the queries about a room throw `ENGINE_UNKNOWN_ROOM` otherwise). */
  async hasRoom(roomId: string): Promise<boolean> {
    return queries.hasRoom(this.#ctx, roomId);
  }

  /** The rooms the store holds, sorted. */
  async rooms(): Promise<string[]> {
    return queries.rooms(this.#ctx);
  }

  /**
   * The forward extremities of a room (sorted).
   * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
   */
  async forwardExtremities(roomId: string): Promise<string[]> {
    return queries.forwardExtremities(this.#ctx, roomId);
  }

  /**
   * The membership of `userId` in the room's current state (`undefined` = the user has none).
   * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
   */
  async membership(roomId: string, userId: string): Promise<string | undefined> {
    return queries.membership(this.#ctx, roomId, userId);
  }

  /** The full auth chain of events. */
  async authChain(eventIds: readonly string[]): Promise<ReadonlySet<string>> {
    return queries.authChain(this.#ctx, eventIds);
  }

  /**
   * Events of a room in stream (arrival) order.
   * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
   */
  async timeline(roomId: string, options?: { readonly from?: number; readonly limit?: number; readonly direction?: 'forwards' | 'backwards' }): Promise<readonly StoredEvent[]> {
    return queries.timeline(this.#ctx, roomId, options);
  }

  /**
   * Events of a room (non-outliers) in topological order: by depth, then stream order.
   * @throws {@link EngineError} `ENGINE_UNKNOWN_ROOM`.
   */
  async topologicalOrder(roomId: string): Promise<StoredEvent[]> {
    return queries.topologicalOrder(this.#ctx, roomId);
  }

  // Serving federation requests (FederationHandler: federation/ and join/)

  /** Answers `GET /event/{eventId}` (federation handler): the stored PDU (outliers included), unless it was rejected. */
  async onGetEvent(origin: string, eventId: string): Promise<JsonObject | undefined> {
    return fedEvents.onGetEvent(this.#ctx, origin, eventId);
  }

  /** Answers `POST /get_missing_events/{roomId}` (federation handler): events of the room between `earliestEvents` and `latestEvents`, oldest first, bounded by `limit`. */
  async onGetMissingEvents(origin: string, roomId: string, request: MissingEventsRequest): Promise<readonly JsonObject[]> {
    return fedEvents.onGetMissingEvents(this.#ctx, origin, roomId, request);
  }

  /** Answers `GET /state_ids/{roomId}?event_id=` (federation handler): the IDs of the state before the event and of its auth chain. */
  async onGetStateIds(origin: string, roomId: string, eventId: string): Promise<StateIdsResponse> {
    return fedState.onGetStateIds(this.#ctx, origin, roomId, eventId);
  }

  /** Answers `GET /state/{roomId}?event_id=` (federation handler): the state before the event and its auth chain, as PDUs. */
  async onGetState(origin: string, roomId: string, eventId: string): Promise<StateResponse> {
    return fedState.onGetState(this.#ctx, origin, roomId, eventId);
  }

  /** Answers `GET /backfill/{roomId}` (federation handler): the given events and their predecessors, newest first, up to `limit`. */
  async onBackfill(origin: string, roomId: string, fromEventIds: readonly string[], limit: number): Promise<readonly JsonObject[]> {
    return fedEvents.onBackfill(this.#ctx, origin, roomId, fromEventIds, limit);
  }

  /** Answers `GET /make_join/{roomId}/{userId}` (federation handler): a join template, or a {@link FederationRefusal} with the Matrix errcode (see the package README, Joining over federation). */
  async onMakeJoin(origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeJoinResponse> {
    return onMakeJoin(this.#ctx, origin, roomId, userId, supportedVersions);
  }

  /** Answers `PUT /v2/send_join/{roomId}/{eventId}` (federation handler): checks and accepts the join, answers with the state before it and the auth chain, and pushes the join to the room's other servers; refuses with a {@link FederationRefusal}. */
  async onSendJoin(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendJoinResponse> {
    return onSendJoin(this.#ctx, origin, roomId, eventId, event);
  }

  /** Answers `GET /_matrix/key/v2/server` (federation handler): this server's self-signed key object. */
  async onGetServerKeys(): Promise<JsonObject> {
    return onGetServerKeys(this.#ctx);
  }

  /** Receives pushed PDUs, `PUT /send/{txnId}` (federation handler): per-event results, an error for dropped, rejected or parked events. */
  async onReceivePdus(origin: string, pdus: readonly JsonObject[]): Promise<Readonly<Record<string, { readonly error?: string }>>> {
    return onReceivePdus(this.#ctx, origin, pdus, (o, p) => this.receivePdus(o, p));
  }

  /** Answers `GET /make_leave/{roomId}/{userId}` (federation handler): a leave template, or a refusal with a Matrix errcode. */
  async onMakeLeave(origin: string, roomId: string, userId: string): Promise<MakeMembershipResponse> {
    return onMakeMembership(this.#ctx, origin, roomId, userId, 'leave');
  }

  /** Answers `PUT /v2/send_leave/{roomId}/{eventId}` (federation handler): checks and accepts the leave, and sends it to the room's other servers. */
  async onSendLeave(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<void> {
    await onSendMembership(this.#ctx, origin, roomId, eventId, event, 'leave');
  }

  /** Answers `PUT /v2/invite/{roomId}/{eventId}` (federation handler): checks, countersigns and remembers an invite for a local user. */
  async onInvite(origin: string, roomId: string, eventId: string, request: InviteRequest): Promise<JsonObject> {
    return onInvite(this.#ctx, origin, roomId, eventId, request);
  }

  /** Answers `GET /make_knock/{roomId}/{userId}` (federation handler): a knock template, or a refusal with a Matrix errcode. */
  async onMakeKnock(origin: string, roomId: string, userId: string, supportedVersions: readonly string[]): Promise<MakeMembershipResponse> {
    return onMakeMembership(this.#ctx, origin, roomId, userId, 'knock', supportedVersions);
  }

  /** Answers `PUT /v1/send_knock/{roomId}/{eventId}` (federation handler): checks and accepts the knock; answers with the room's stripped state. */
  async onSendKnock(origin: string, roomId: string, eventId: string, event: JsonObject): Promise<SendKnockResponse> {
    await onSendMembership(this.#ctx, origin, roomId, eventId, event, 'knock');
    return { knockRoomState: await strippedState(this.#ctx, roomId) };
  }

  /** Sends this server's new events of a room to other servers (through the durable queue when the transport has one, else best effort). */
  async sendToServers(destinations: readonly string[], pdus: readonly Pdu[]): Promise<void> {
    return sendToServers(this.#ctx, destinations, pdus);
  }
}

/**
 * Builds a {@link RoomEngine} without opening it: open the store first, or call
 * `await engine.open()` (or use `await RoomEngine.open(options)`).
 */
export function createRoomEngine(options: RoomEngineOptions): RoomEngine {
  return new RoomEngine(options);
}

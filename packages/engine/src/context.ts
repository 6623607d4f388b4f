/**
 * What every engine module works with: the {@link EngineContext} (this server, its store,
 * transport and keys, the room versions, the clock, the limits, the caches, the outbox and the
 * per-room locks) and the {@link ProcessRequest} that carries one PDU through the receipt checks
 * (Server-Server API › Checks performed on receipt of a PDU).
 *
 * The engine's modules depend on the context, never on each other's private state; the receipt
 * pipeline, which the missing-event and join modules re-enter, is reached through
 * {@link EngineContext.process} (so the module graph has no cycles).
 *
 * @module
 */
import type { SigningKey } from '@roomgraph/crypto';
import type { Pdu, RoomEvent, SignatureCheckResult } from '@roomgraph/events';
import { type RoomVersionRules, RoomVersionRegistry } from '@roomgraph/room-versions';
import type { RoomStore } from '@roomgraph/store';
import { type KeySource, type Transport, checkedTransport } from '@roomgraph/transport';
import { EngineCaches } from './caches.js';
import { EngineError } from './errors.js';
import { RoomLocks } from './runtime/locks.js';
import { Outbox } from './runtime/outbox.js';
import type { VState } from './state/vstate.js';
import type { PduOutcome, RoomEngineOptions } from './types.js';

/**
 * How deep a processing is nested in fetches (formerly the `depth` parameter, renamed: it is not
 * the event's `depth`). {@link NESTING_TOP} is a PDU handed to the engine; an event fetched to
 * process another is processed one level deeper. The limits below are where fetching stops.
 */
export type Nesting = number;

/** A PDU handed to the engine by its embedder (received, local, or resumed from the park). */
export const NESTING_TOP: Nesting = 0;
/** An event the engine fetched or replayed itself (missing events, a join's state, backfill, the park). */
export const NESTING_FETCHED: Nesting = 1;
/** `get_missing_events` is asked only for PDUs up to this nesting (the fetched ones do not fetch more). */
export const MAX_NESTING_GET_MISSING: Nesting = 0;
/** A remote's `state_ids` is asked only up to this nesting (the oldest fetched event of a gap needs it). */
export const MAX_NESTING_STATE_IDS: Nesting = 1;
/** Auth events are fetched (`GET /event`) only up to this nesting: an auth chain is walked at most this deep. */
export const MAX_NESTING_AUTH_FETCH: Nesting = 8;
/** Events are parked (waiting for what they cite) only at this nesting; deeper ones are just reported. */
export const PARK_NESTING: Nesting = 0;
/** Events read when looking for an accepted child of an event (see `receipt/extremities.ts`). */
export const MAX_CHILD_WALK = 10_000;
/** The spec's hard limit on `prev_events` (room versions › event format); local events stay below it. */
export const SPEC_MAX_PREV_EVENTS = 20;

/** One PDU going through the receipt checks (see `receipt/pipeline.ts`). */
export interface ProcessRequest {
  /** The server it came from (this server for local events). */
  readonly origin: string;
  /** The parsed PDU. */
  readonly pdu: Pdu;
  /** Its room's version rules. */
  readonly rules: RoomVersionRules;
  /** Its room. */
  readonly roomId: string;
  /** How deep in fetches this processing is (see {@link Nesting}). */
  readonly nesting: Nesting;
  /** Store it as an outlier: without state (auth against its auth events only). */
  readonly asOutlier?: boolean;
  /** The state before it, when known from elsewhere (a join's `send_join` answer). */
  readonly knownStateBefore?: VState;
  /** Skip signature and content hash checks (trusted import, local events, promoted outliers). */
  readonly trusted?: boolean;
  /** A local event: no soft-fail check, and a rejection is returned without storing anything. */
  readonly local?: boolean;
  /** A signature check already started (the receivePdus look-ahead). */
  readonly sig?: Promise<SignatureCheckResult>;
  /**
   * A backfilled event (SS › Backfilling): history older than what is stored. Not soft-fail
   * checked, and it leaves the forward extremities and the current state alone (as Synapse's
   * `backfilled=True` persistence does).
   */
  readonly backfilled?: boolean;
}

/** Limits, resolved from {@link RoomEngineOptions.limits}. */
export interface ResolvedLimits {
  /** Events asked for in one `get_missing_events`. */
  readonly maxMissingEvents: number;
  /** `prev_events` of a local event (at most {@link SPEC_MAX_PREV_EVENTS}). */
  readonly maxPrevEvents: number;
  /** Parked events per room (`receipt/parked.ts`). */
  readonly maxParkedPerRoom: number;
}

/** The default of {@link ResolvedLimits.maxParkedPerRoom}. */
export const DEFAULT_MAX_PARKED_PER_ROOM = 10_000;

/** Everything the engine's modules share. Built once per engine by {@link createEngineContext}. */
export interface EngineContext {
  /** This server's name. */
  readonly serverName: string;
  /** This server's signing key, if it has one. */
  readonly signingKey: SigningKey | undefined;
  /** Where events and state are kept. */
  readonly store: RoomStore;
  /** Other servers (answers shape-checked), if any. */
  readonly transport: Transport | undefined;
  /** Other servers' public keys. */
  readonly keys: KeySource;
  /** The supported room versions. */
  readonly versions: RoomVersionRegistry;
  /** Clock (ms since epoch). */
  readonly now: () => number;
  /** Limits. */
  readonly limits: ResolvedLimits;
  /** The engine's caches (all bounded; see `caches.ts`). */
  readonly caches: EngineCaches;
  /** Notifications and durability. */
  readonly outbox: Outbox;
  /** Per-room serialisation. */
  readonly locks: RoomLocks;
  /** The receipt pipeline (`receipt/pipeline.ts`), for the modules that re-enter it. */
  readonly process: (req: ProcessRequest) => Promise<PduOutcome>;
}

/** Builds the context of one engine; `process` is the receipt pipeline bound to it. */
export function createEngineContext(options: RoomEngineOptions, process: (ctx: EngineContext, req: ProcessRequest) => Promise<PduOutcome>): EngineContext {
  const caches = new EngineCaches(options.limits);
  const ctx: EngineContext = {
    serverName: options.serverName,
    signingKey: options.signingKey,
    store: options.store,
    // Remote answers are untrusted: their shape is checked before the engine reads them.
    transport: options.transport === undefined ? undefined : checkedTransport(options.transport),
    keys: options.keys,
    versions: options.roomVersions ?? new RoomVersionRegistry(),
    now: options.now ?? Date.now,
    limits: {
      maxMissingEvents: options.limits?.maxMissingEvents ?? 100,
      maxPrevEvents: Math.min(SPEC_MAX_PREV_EVENTS, options.limits?.maxPrevEvents ?? 10),
      maxParkedPerRoom: positiveLimit('maxParkedPerRoom', options.limits?.maxParkedPerRoom, DEFAULT_MAX_PARKED_PER_ROOM),
    },
    caches,
    outbox: new Outbox(options.store),
    // A room lock taken anew (another process may have changed the room): forget what the caches
    // hold about the room's mutable facts.
    locks: new RoomLocks(options.store.lockRoom?.bind(options.store), (roomId) => caches.forgetRoomFacts(roomId)),
    process: (req) => process(ctx, req),
  };
  return ctx;
}

/**
 * This server as a signer.
 * @throws {@link EngineError} `ENGINE_NO_SIGNING_KEY` when the engine has no signing key.
 */
export function signerOf(ctx: EngineContext): { serverName: string; key: SigningKey } {
  const key = ctx.signingKey;
  if (key === undefined) throw new EngineError('ENGINE_NO_SIGNING_KEY', 'this engine has no signing key');
  return { serverName: ctx.serverName, key };
}

/** The parsed view of a stored event (cached). */
export function viewOf(ctx: EngineContext, e: { readonly eventId: string; readonly json: Pdu['json'] }, rules: RoomVersionRules): RoomEvent {
  return ctx.caches.view(e, rules);
}

/** A limit of `RoomEngineOptions.limits`: `given`, or `dflt` when not given. @throws {@link EngineError} `ENGINE_INVALID_ARGUMENT` unless a positive integer. */
function positiveLimit(name: string, given: number | undefined, dflt: number): number {
  const v = given ?? dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new EngineError('ENGINE_INVALID_ARGUMENT', `limits.${name} must be a positive integer, not ${String(given)}`);
  return v;
}

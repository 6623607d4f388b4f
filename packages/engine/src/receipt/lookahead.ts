/**
 * The look-ahead of `receivePdus` (Server-Server API › Checks performed on receipt of a PDU,
 * checks 1 and 2 ahead of the rest): while PDUs are checked and committed in order on this
 * thread, the following ones are identified (check 1: room, version, format) and their signatures
 * handed to the verification thread (check 2), so that it always has work queued.
 *
 * Bounded: at most `reach` PDUs past the first one not yet consumed are started (parsed, their
 * signing bytes made, their verification queued); the results of consumed PDUs are dropped.
 * Paced: at most {@link PACE} PDUs are being identified at once — one until the first is handed
 * over — so the first verification of a call reaches the verification thread after about one
 * PDU's work here, not after the whole window's (promises interleave: PDUs started together are
 * each parsed before any of them is handed over). Each PDU identified starts the next one, so the
 * window refills as the verification thread answers and as blocks commit, not only between
 * blocks. (Key lookups are not paced: a key fetched from afar holds back only its own PDUs.)
 *
 * @module
 */
import { isJsonObject } from '@roomgraph/canonical-json';
import type { SignatureCheckResult } from '@roomgraph/events';
import type { StoredEvent } from '@roomgraph/store';
import type { EngineContext } from '../context.js';
import type { PduOutcome } from '../types.js';
import { type Identified, identify } from './identify.js';
import { handOffSignatureCheck } from './signatures.js';

/**
 * PDUs being identified at once (before their signatures are handed to the verification thread).
 * More than one, so that a store read of one (a persistent store's room or event lookup) overlaps
 * the others'.
 */
export const PACE = 4;

/**
 * A look-ahead result: dropped already, or identified — with its signature check under way, or
 * without one (already stored: its outcome is the stored one).
 */
export type Prepared = PduOutcome | Identified | (Identified & { readonly sig: Promise<SignatureCheckResult> });

/**
 * Whether the stored event `id` makes a PDU's outcome the stored one (stored, and not as an
 * outlier): at once where the store has the answer at hand (`peekEvent`), else a promise.
 */
export function storedAlready(ctx: EngineContext, id: Identified): boolean | Promise<boolean> {
  const peeked = ctx.store.peekEvent?.(id.pdu.eventId);
  if (peeked !== undefined) return peeked !== null && peeked.status !== 'outlier';
  return ctx.store.getEvent(id.pdu.eventId).then(isStoredForGood);
}

/** Whether a stored record (or none) makes a PDU's outcome the stored one. */
function isStoredForGood(known: StoredEvent | undefined): boolean {
  return known !== undefined && known.status !== 'outlier';
}

/**
 * Checks 1 and 2 of one PDU ahead: resolves once its signature check is handed over (or none is
 * needed). `identified` is called once the PDU is identified (or failed to be), before its keys
 * are looked up: a key fetched from afar does not hold back the identification of later PDUs.
 */
async function prepareOne(ctx: EngineContext, json: unknown, identified: () => void): Promise<Prepared> {
  let id: PduOutcome | Identified;
  try {
    // (At once when the room's version is remembered: no promise to wait for.)
    const now = identify(ctx, json);
    id = now instanceof Promise ? await now : now;
    if ('status' in id) return id;
    // A PDU already stored (a re-delivery, a resumed import): no signature check is started.
    // (Awaited even when answered at once: one microtask turn, no store promise. Finished
    // synchronously, an identification would start the next PDU from inside this one, and the
    // whole window would be parsed before the first verification is handed over — see PACE.)
    if (await storedAlready(ctx, id)) return id;
  } finally {
    identified();
  }
  // Warm the store's cache with the events this PDU cites, so that a disk read (an auth
  // event not read for a while, in a big room) overlaps the processing of earlier PDUs.
  // (A store without persistence holds everything in memory: nothing to warm.)
  if (ctx.store.supports.persistent) ctx.store.getEvents([...id.pdu.authEvents, ...id.pdu.prevEvents]).catch(() => undefined);
  const { sig } = await handOffSignatureCheck(ctx, id.pdu, id.rules);
  return { ...id, sig };
}

/** Whether a look-ahead result is a drop for an unknown room (the room may exist by the time it is reached). */
function unknownRoom(r: Prepared | undefined): boolean {
  return r !== undefined && 'status' in r && r.rule === 'unknown_room';
}

/** The look-ahead over one call's PDUs (see the module documentation). */
export class LookAhead {
  readonly #ctx: EngineContext;
  readonly #pdus: readonly unknown[];
  readonly #reach: number;
  /** Per PDU: its result, while started and not consumed. */
  readonly #results: (Promise<Prepared> | undefined)[];
  /** Per PDU: its result once settled (what {@link LookAhead.ready} and {@link LookAhead.again} read). */
  readonly #settled: (Prepared | undefined)[];
  /** Per PDU: 1 once its result and its signature check (if any) have settled. */
  readonly #done: Uint8Array;
  /** First PDU not consumed. */
  #base = 0;
  /** Next PDU the window starts. */
  #next = 0;
  /** PDUs started and not yet identified. */
  #identifying = 0;
  /** How many PDUs may be identified at once: 1 until the first is handed over, then {@link PACE}. */
  #pace = 1;
  /** PDUs to start again (identified before their room existed), before {@link #next}. */
  readonly #redo: number[] = [];
  /** Most PDUs started and not consumed at any time (for tests of the bound). */
  #held = 0;
  /** Most PDUs being identified at once at any time (for tests of the pace). */
  #mostIdentifying = 0;

  /** A look-ahead over `pdus` holding at most `reach` PDUs (0: none started ahead; {@link LookAhead.get} still works). */
  constructor(ctx: EngineContext, pdus: readonly unknown[], reach: number) {
    this.#ctx = ctx;
    this.#pdus = pdus;
    this.#reach = reach;
    this.#results = new Array<Promise<Prepared> | undefined>(pdus.length);
    this.#settled = new Array<Prepared | undefined>(pdus.length);
    this.#done = new Uint8Array(pdus.length);
  }

  /** The result for PDU `i` (started now, with any PDUs before it not started yet, if it was not). Never consumed PDUs only. */
  get(i: number): Promise<Prepared> {
    const p = this.#results[i];
    if (p !== undefined) return p;
    while (this.#next < i) this.#startIfNot(this.#next++);
    if (this.#next === i) this.#next++;
    return this.#start(i);
  }

  /** Whether PDU `i`'s result and its signature check (if any) are known (awaiting {@link LookAhead.get} then waits for nothing else). */
  ready(i: number): boolean {
    return this.#done[i] === 1 && this.#results[i] !== undefined;
  }

  /**
   * PDU `i` identified again (its result was a drop for an unknown room, and the room may exist
   * now). If its room does exist now, so are the later started PDUs of that room found before it
   * existed (a room created earlier in the call). Only then: PDUs of a room that still does not
   * exist are each identified again once, not once per PDU before them.
   */
  again(i: number): Promise<Prepared> {
    this.#forget(i);
    const p = this.#start(i);
    p.then((r) => {
      if ('status' in r || this.#results[i] !== p) return;
      for (let k = i + 1; k < this.#next; k++) {
        const json = this.#pdus[k];
        if (this.#done[k] === 1 && unknownRoom(this.#settled[k]) && isJsonObject(json) && json['room_id'] === r.roomId) {
          this.#forget(k);
          this.#redo.push(k);
        }
      }
      this.#pump();
    }, () => undefined);
    return p;
  }

  /** PDUs before `upTo` are done with: their results are dropped, and the window moves on. */
  consume(upTo: number): void {
    for (let k = this.#base; k < upTo; k++) this.#forget(k);
    if (upTo > this.#base) this.#base = upTo;
    if (this.#next < this.#base) this.#next = this.#base;
    this.#pump();
  }

  /** The most PDUs held (started and not consumed) at any time so far. */
  get maxHeld(): number {
    return this.#held;
  }

  /** PDUs being identified now (started, not yet identified). */
  get identifying(): number {
    return this.#identifying;
  }

  /** The most PDUs being identified at once at any time so far. */
  get mostIdentifying(): number {
    return this.#mostIdentifying;
  }

  #forget(k: number): void {
    this.#results[k] = undefined;
    this.#settled[k] = undefined;
    this.#done[k] = 0;
  }

  #startIfNot(k: number): void {
    if (this.#results[k] === undefined && k >= this.#base) this.#start(k);
  }

  #start(i: number): Promise<Prepared> {
    if (++this.#identifying > this.#mostIdentifying) this.#mostIdentifying = this.#identifying;
    const p = prepareOne(this.#ctx, this.#pdus[i], () => {
      this.#identifying--;
      this.#pump();
    });
    this.#results[i] = p;
    const held = this.#next - this.#base;
    if (held > this.#held) this.#held = held;
    const mark = (): void => {
      // (Not when the result was forgotten meanwhile: consumed, or started again.)
      if (this.#results[i] === p) this.#done[i] = 1;
    };
    p.then((r) => {
      if (this.#results[i] === p) this.#settled[i] = r;
      if ('sig' in r) (r as { readonly sig: Promise<SignatureCheckResult> }).sig.then(mark, mark);
      else mark();
      this.#warm();
    }, () => {
      // A failed look-ahead is retried in order by the caller (no unhandled rejection here).
      mark();
      this.#warm();
    });
    return p;
  }

  /** A first PDU is handed over (or settled otherwise): from now on {@link PACE} at once. */
  #warm(): void {
    if (this.#pace === PACE) return;
    this.#pace = PACE;
    this.#pump();
  }

  /** Starts PDUs while fewer than {@link PACE} (at first 1) are being identified and the window has room. */
  #pump(): void {
    while (this.#identifying < this.#pace) {
      const redo = this.#redo.shift();
      if (redo !== undefined) {
        this.#startIfNot(redo);
        continue;
      }
      if (this.#next >= this.#pdus.length || this.#next >= this.#base + this.#reach) return;
      this.#startIfNot(this.#next++);
    }
  }
}

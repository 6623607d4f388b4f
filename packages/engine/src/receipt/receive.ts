/**
 * Receiving PDUs (Server-Server API › Transactions; › Checks performed on receipt of a PDU): each
 * PDU is identified (check 1, format), then processed inside its room's lock, in the order given;
 * after each event stored, the room's parked events are retried. `receivePdus` pipelines: the
 * next few PDUs are identified and their signatures verified on the verification thread while
 * the current ones are processed (each is still processed and committed in order). Where the store
 * has `commitMany`, runs of PDUs go by blocks (`import-block.ts`) — trusted ones directly, received
 * ones once the look-ahead has run checks 1–3 on them — and each PDU a block cannot take goes
 * through the per-event pipeline.
 *
 * @module
 */
import { type SignatureCheckResult, checkContentHash, parsePdu, type Pdu } from '@roomgraph/events';
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { type EngineContext, NESTING_FETCHED, NESTING_TOP } from '../context.js';
import { isJsonObject } from '@roomgraph/canonical-json';
import type { PduOutcome, ReceiveOptions } from '../types.js';
import { identify, lockKeyOf } from './identify.js';
import { type CheckedPdus, importBlock, importLocked, importOne } from './import-block.js';
import { retryParked } from './parked.js';
import { type Prepared, LookAhead, storedAlready } from './lookahead.js';
import { checkSignatures, startSignatureCheck } from './signatures.js';

/** Default number of PDUs prepared ahead by {@link receivePdus}. */
export const DEFAULT_LOOKAHEAD = 32;

/**
 * A block of received PDUs waits for the checks of its first this many PDUs; past them it ends
 * before a PDU whose signature check has not finished (and the next block starts there), rather
 * than wait for it: then this thread commits what is verified while the verification thread does
 * the rest. Within this many PDUs of the end of a call, a block ends there as soon as it holds
 * one: little is left to commit after the last verification (while the verification thread waits
 * for the next call).
 */
export const MIN_BLOCK = 8;

/** Runs the receipt checks on each PDU in order, as if each arrived from `origin`. */
export async function receivePdus(ctx: EngineContext, origin: string, pdus: readonly unknown[], options?: ReceiveOptions): Promise<PduOutcome[]> {
  await ctx.outbox.ready();
  const trusted = options?.trusted === true;
  const window = trusted ? 0 : Math.max(0, options?.lookahead ?? DEFAULT_LOOKAHEAD);
  const out: PduOutcome[] = [];
  if (ctx.store.commitMany !== undefined && (trusted || window > 0)) {
    // By blocks: a block takes a run of plain PDUs, checks them in memory and commits them at once
    // (import-block.ts); whatever a block stops at goes through the per-event pipeline, then a new
    // block starts after it. Trusted, a block parses the PDUs itself and hands the pipeline the PDU
    // it stopped at, identified. Received, the look-ahead runs checks 1–3 (format; signatures, on
    // the verification thread; content hash), a block takes the run of PDUs that passed them, up
    // to the look-ahead's reach, and the pipeline gets the look-ahead's result. The look-ahead
    // holds at most two windows of PDUs past the first one not committed: a block's (at most one
    // window) and the next window's, whose verifications are queued meanwhile.
    const ahead = trusted ? undefined : new LookAhead(ctx, pdus, 2 * window);
    const checked: CheckedPdus | undefined = ahead === undefined ? undefined : {
      limit: window,
      pdu: async (j, roomId, rules) => {
        let pre = await ahead.get(j).catch(() => undefined);
        // Identified before its room existed (the room's create event came earlier in this call):
        // identified again now.
        if (pre !== undefined && 'status' in pre && pre.rule === 'unknown_room') pre = await ahead.again(j).catch(() => undefined);
        if (pre === undefined || 'status' in pre || !('sig' in pre) || pre.roomId !== roomId || pre.rules !== rules) return undefined;
        const sig = await (pre as { readonly sig: Promise<SignatureCheckResult> }).sig.catch(() => undefined);
        if (sig?.status !== 'ok' || !checkContentHash(pre.pdu.json, rules)) return undefined;
        return pre.pdu;
      },
      endBefore: (j, taken) => taken >= (j + MIN_BLOCK < pdus.length ? MIN_BLOCK : 1) && !ahead.ready(j),
    };
    for (let i = 0; i < pdus.length;) {
      ahead?.consume(i);
      const b = await importBlock(ctx, pdus, i, checked);
      for (const o of b.outcomes) out.push(o);
      i += b.outcomes.length;
      if (i >= pdus.length) break;
      // Ended by its size, or before a PDU not verified yet: the next block starts there.
      if (b.cut) continue;
      ahead?.consume(i);
      const pre: Prepared | undefined = ahead === undefined ? b.next : await ahead.get(i).catch(() => undefined);
      out.push(await receiveLocked(ctx, origin, pdus[i], trusted, pre));
      i++;
    }
    return out;
  }
  // One PDU at a time, the look-ahead a window ahead of it.
  const ahead = window > 0 ? new LookAhead(ctx, pdus, window) : undefined;
  for (let i = 0; i < pdus.length; i++) {
    ahead?.consume(i);
    const pre: Prepared | undefined = ahead === undefined ? undefined : await ahead.get(i).catch(() => undefined);
    out.push(await receiveLocked(ctx, origin, pdus[i], trusted, pre));
  }
  return out;
}

/**
 * One PDU ({@link receivePdus} for one, as `RoomEngine.receivePdu`). Where the store has
 * `commitMany` it goes by the block path as a block of one: checks 1–3 here (the signatures on this
 * thread), then checks 4–6 and the commit in `import-block.ts`; what a block cannot take goes
 * through the per-event pipeline with the checks already made.
 */
export async function receiveOne(ctx: EngineContext, origin: string, pdu: unknown, trusted: boolean): Promise<PduOutcome> {
  await ctx.outbox.ready();
  if (ctx.store.commitMany === undefined) return receiveLocked(ctx, origin, pdu, trusted, undefined);
  const lockKey = lockKeyOf(pdu);
  // Everything inside the room's lock, taken at the call: PDUs of a room are processed in the
  // order of the calls (e.g. events fired concurrently with their room's create event).
  return ctx.locks.withRoom(lockKey, () => (trusted ? trustedOneInLock(ctx, origin, pdu, lockKey) : receivedOneInLock(ctx, origin, pdu, lockKey)));
}

/** {@link receiveOne} of a trusted PDU, inside the room's lock (`lockKey`). */
async function trustedOneInLock(ctx: EngineContext, origin: string, pdu: unknown, lockKey: string): Promise<PduOutcome> {
  const inBlock = isJsonObject(pdu) && pdu['room_id'] === lockKey;
  const b = inBlock ? await importLocked(ctx, [pdu], 0, lockKey, undefined) : undefined;
  const only = b?.outcomes[0];
  return only !== undefined ? only : receiveInLock(ctx, origin, pdu, true, b?.next);
}

/** {@link receiveOne} of a received PDU, inside the room's lock (`lockKey`): checks 1–3 here, then a block of one. */
async function receivedOneInLock(ctx: EngineContext, origin: string, pdu: unknown, lockKey: string): Promise<PduOutcome> {
  const inBlock = isJsonObject(pdu) && pdu['room_id'] === lockKey;
  // (Each answered at once where it can be: no microtask turn for an answer at hand.)
  const now = identify(ctx, pdu);
  const id = now instanceof Promise ? await now : now;
  if ('status' in id) return receiveInLock(ctx, origin, pdu, false, id);
  // Stored already: its stored outcome (or a promotion), from the pipeline, without a signature check.
  const stored = storedAlready(ctx, id);
  if (typeof stored === 'boolean' ? stored : await stored) return receiveInLock(ctx, origin, pdu, false, id);
  // Check 2 on this thread.
  const sig = await checkSignatures(ctx, id.pdu, id.rules);
  if (inBlock && sig.status === 'ok' && checkContentHash(id.pdu.json, id.rules)) {
    const only = await importOne(ctx, id.pdu, id.rules, lockKey);
    if (only !== undefined) return only;
  }
  return receiveInLock(ctx, origin, pdu, false, { ...id, sig: Promise.resolve(sig) });
}

/** `p`, marked handled: a check a duplicate never awaits must not surface as an unhandled rejection (awaiting it still throws). */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Identifies and processes one PDU inside its room's lock, so that events racing their room's
 * create event (or each other) see a consistent room. A look-ahead identification is reused
 * unless it found no room (the room may exist by now).
 */
export async function receiveLocked(ctx: EngineContext, origin: string, pdu: unknown, trusted: boolean, ahead: Prepared | undefined): Promise<PduOutcome> {
  return ctx.locks.withRoom(lockKeyOf(pdu), () => receiveInLock(ctx, origin, pdu, trusted, ahead));
}

/** {@link receiveLocked} inside the room's lock, which the caller holds. */
async function receiveInLock(ctx: EngineContext, origin: string, pdu: unknown, trusted: boolean, ahead: Prepared | undefined): Promise<PduOutcome> {
  const again = ahead !== undefined && 'status' in ahead && ahead.rule === 'unknown_room';
  const pre: Prepared = ahead === undefined || again ? await identify(ctx, pdu) : ahead;
  if ('status' in pre) return pre;
  // A look-ahead that came before its room's create event: its signature check goes to the
  // verification thread too (receivePdus keeps verification off this thread).
  const sig = 'sig' in pre
    ? (pre as { readonly sig: Promise<SignatureCheckResult> }).sig
    : again && trusted !== true ? quiet(startSignatureCheck(ctx, pre.pdu, pre.rules)) : undefined;
  const outcome = await ctx.process({
    origin, pdu: pre.pdu, rules: pre.rules, roomId: pre.roomId, nesting: NESTING_TOP, trusted, ...(sig !== undefined ? { sig } : {}),
  });
  if (outcome.status !== 'dropped' && outcome.status !== 'parked') await retryParked(ctx, pre.roomId, pre.rules);
  return outcome;
}

/** Stores an event as an outlier: format, signatures, hash and auth against its auth events are checked. */
export async function receiveOutlier(ctx: EngineContext, origin: string, json: unknown, rules: RoomVersionRules, roomId: string): Promise<PduOutcome> {
  await ctx.outbox.ready();
  if (!isJsonObject(json)) return { eventId: '', status: 'dropped', rule: 'format', reason: 'not an object' };
  let pdu: Pdu;
  try { pdu = parsePdu(json, rules); } catch (e) { return { eventId: '', status: 'dropped', rule: 'format', reason: String(e) }; }
  const rid = pdu.roomId ?? roomId;
  return ctx.locks.withRoom(rid, () => ctx.process({ origin, pdu, rules, roomId: rid, nesting: NESTING_FETCHED, asOutlier: true }));
}

/** {@link receivePdus}, resolving once what it stored is durable (the public `receivePdus`). */
export function receivePdusDurably(ctx: EngineContext, origin: string, pdus: readonly unknown[], options?: ReceiveOptions): Promise<PduOutcome[]> {
  return ctx.outbox.durably(() => receivePdus(ctx, origin, pdus, options));
}

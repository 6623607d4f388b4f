/**
 * Library targets: the entry points called in-process with hostile values — including what the CLI
 * can never send: cycles and self references, BigInt, undefined, NaN, sparse arrays, objects
 * without a prototype, 100k-deep nesting. Each call must return, or throw a typed error (an Error
 * with an upper-case `code`, never a TypeError / RangeError); `checkAuth` must never throw and
 * never answer rule `internal`; nothing may take more than a few seconds.
 */
import { checkAuth } from '@roomgraph/auth';
import { encodeCanonicalJson, parseCanonicalJson, type JsonObject, type JsonValue } from '@roomgraph/canonical-json';
import { computeContentHashBase64, decodeBase64Any, signJson, signingKeyFromSeed, verifyJson } from '@roomgraph/crypto';
import {
  type RoomEvent, checkContentHash, contentHash, eventId, parsePdu, parsePduText, redact, referenceHash, roomIdFromCreateEvent,
  stateKeyOf, stateLookupOf, toRoomEvent, validatePdu, verifyEventSignatures,
} from '@roomgraph/events';
import { getRoomVersion } from '@roomgraph/room-versions';
import { resolveStateSync } from '@roomgraph/state-res';
import type { Corpus } from './corpus.js';
import { CODE, type Finding, STACK, type TargetStats, bump, showInput } from './findings.js';
import { type Sizes, mutateValue, mutatedLine, serialize } from './mutate.js';
import type { Rng } from './rng.js';

const KEY = signingKeyFromSeed(new Uint8Array(32).fill(5), 'k1');
const UNTYPED = new Set(['TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'InternalError', 'Error', 'AggregateError', 'EvalError', 'URIError']);

function isObj(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function show(v: unknown): string {
  try {
    return showInput(serialize(v));
  } catch {
    return '<unprintable>';
  }
}

/** The library entry points, each given one hostile input. */
export const LIB_TARGETS = ['lib:canonical-json', 'lib:events', 'lib:auth', 'lib:state-res', 'lib:crypto'] as const;
export type LibTarget = (typeof LIB_TARGETS)[number];

/** Runs `cases` cases of one library target. */
export function runLibrary(target: LibTarget, rng: Rng, corpus: Corpus, cases: number, sizes: Sizes, findings: Finding[]): TargetStats {
  const stats: TargetStats = { cases: 0, ms: 0, codes: {} };
  const t0 = performance.now();
  const find = (kind: string, detail: string, input: unknown): void => {
    if (findings.filter((f) => f.target === target).length < 50) findings.push({ target, kind, detail, input: show(input) });
  };
  /** Calls f; a throw must be typed. */
  const call = (what: string, input: unknown, f: () => unknown): unknown => {
    const t = performance.now();
    try {
      const r = f();
      bump(stats.codes, 'ok');
      return r;
    } catch (e) {
      const name = e instanceof Error ? e.name : typeof e;
      const code = (e as { code?: unknown } | null)?.code;
      if (!(e instanceof Error) || typeof code !== 'string' || !CODE.test(code) || UNTYPED.has(name)) {
        find('untyped-error', `${what}: ${name}: ${e instanceof Error ? e.message.slice(0, 300) : String(e)}`, input);
      } else {
        bump(stats.codes, code);
        if (STACK.test(e.message)) find('stack-trace', `${what}: ${e.message.slice(0, 300)}`, input);
      }
      return undefined;
    } finally {
      const ms = performance.now() - t;
      if (ms > 5000) find('slow', `${what}: ${Math.round(ms)} ms`, input);
    }
  };
  for (let i = 0; i < cases; i++) {
    stats.cases++;
    switch (target) {
      case 'lib:canonical-json': {
        if (rng.chance(0.5)) {
          const seed = rng.chance(0.3) ? JSON.parse(rng.pick(corpus.jsonTexts)) as unknown : rng.pick(corpus.pdus).pdu;
          const text = mutatedLine(rng, seed, sizes);
          const strict = rng.chance(0.5);
          const v = call('parseCanonicalJson', text, () => parseCanonicalJson(rng.chance(0.5) ? text : text.toString('utf8'), { strict }));
          // A parsed value re-encodes, and its encoding parses back to the same encoding.
          if (v !== undefined) {
            const enc = call('encodeCanonicalJson(parsed)', text, () => encodeCanonicalJson(v as JsonValue, { strict }));
            if (typeof enc === 'string' && encodeCanonicalJson(parseCanonicalJson(enc, { strict }), { strict }) !== enc) find('not-idempotent', 'encode(parse(encode(x))) differs', text);
          }
        } else {
          const v = mutateValue(rng, rng.pick(corpus.pdus).pdu, sizes, true);
          call('encodeCanonicalJson', v, () => encodeCanonicalJson(v as JsonValue, { strict: rng.chance(0.5) }));
        }
        break;
      }
      case 'lib:events': {
        const { v, pdu } = rng.pick(corpus.pdus);
        const rules = getRoomVersion(rng.chance(0.9) ? v : String(1 + rng.int(12)));
        const m = mutateValue(rng, pdu, sizes, true);
        switch (rng.int(10)) {
          case 0: call('validatePdu', m, () => validatePdu(m, rules)); break;
          case 1: call('parsePdu', m, () => parsePdu(m, rules)); break;
          case 2: { const t = mutatedLine(rng, pdu, sizes); call('parsePduText', t, () => parsePduText(t, rules)); break; }
          case 3: call('eventId', m, () => eventId(m as JsonObject, rules)); break;
          case 4: call('redact', m, () => redact(m as JsonObject, rules)); break;
          case 5: call('contentHash', m, () => contentHash(m as JsonObject, rules)); break;
          case 6: call('checkContentHash', m, () => checkContentHash(m as JsonObject, rules)); break;
          case 7: call('referenceHash', m, () => referenceHash(m as JsonObject, rules)); break;
          case 8: call('roomIdFromCreateEvent', m, () => roomIdFromCreateEvent(m as JsonObject)); break;
          default: {
            const keys = corpus.rooms.find((r) => r.events.includes(pdu))?.keys ?? {};
            call('verifyEventSignatures', m, () => verifyEventSignatures(m as JsonObject, rules, (server, keyId) => {
              const k = keys[server]?.[keyId];
              return k === undefined ? undefined : { publicKey: decodeBase64Any(k) };
            }));
          }
        }
        break;
      }
      case 'lib:auth': {
        const c = rng.pick(corpus.auth);
        const rules = getRoomVersion(c.room_version);
        const doc = mutateValue(rng, { event: c.event, auth_events: c.auth_events }, sizes, true);
        const evJson = isObj(doc) && isObj(doc['event']) ? doc['event'] : (c.event as JsonObject);
        const authJson = isObj(doc) && Array.isArray(doc['auth_events']) ? (doc['auth_events'] as unknown[]).filter(isObj) : (c.auth_events as JsonObject[]);
        const idOf = (j: JsonObject): string => (typeof j['event_id'] === 'string' ? j['event_id'] : '');
        let event: RoomEvent;
        let auth: RoomEvent[];
        try {
          event = toRoomEvent(evJson, rules, idOf(evJson));
          auth = authJson.map((j) => toRoomEvent(j, rules, idOf(j)));
        } catch (e) {
          find('untyped-error', `toRoomEvent: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, doc);
          break;
        }
        const withKeys = rng.chance(0.5);
        try {
          const r = checkAuth(event, stateLookupOf(auth), rules, {
            authEvents: auth,
            ...(withKeys ? { serverKeys: () => KEY.publicKey } : {}),
            ...(rng.chance(0.2) ? { isRejected: (id: string) => id.length % 2 === 0 } : {}),
          });
          bump(stats.codes, r.allowed ? 'allowed' : r.rule);
          if (!r.allowed && r.rule === 'internal') find('auth-internal', r.reason.slice(0, 300), doc);
        } catch (e) {
          find('auth-threw', e instanceof Error ? `${e.name}: ${e.message}` : String(e), doc);
        }
        break;
      }
      case 'lib:state-res': {
        const c = rng.pick(corpus.stateres);
        const rules = getRoomVersion(c.room_version);
        const doc = mutateValue(rng, { events: c.events, state_sets: c.state_sets }, { maxString: 100, maxArray: 100 }, true);
        const evs = isObj(doc) && Array.isArray(doc['events']) ? (doc['events'] as unknown[]).filter(isObj) : (c.events as JsonObject[]);
        const sets = isObj(doc) && Array.isArray(doc['state_sets']) ? (doc['state_sets'] as unknown[]) : c.state_sets;
        const events = new Map<string, RoomEvent>();
        for (const j of evs) {
          try {
            const e = toRoomEvent(j, rules);
            if (e.eventId !== '') events.set(e.eventId, e);
          } catch { /* a broken event is simply absent */ }
        }
        const maps = sets.map((s) => {
          const m = new Map<string, string>();
          if (Array.isArray(s)) for (const id of s) {
            const e = typeof id === 'string' ? events.get(id) : undefined;
            if (e !== undefined && e.stateKey !== undefined) m.set(stateKeyOf(e.type, e.stateKey), e.eventId);
            else if (typeof id === 'string' && rng.chance(0.3)) m.set(stateKeyOf('m.room.member', id), id); // an ID that is not in events
          }
          return m;
        });
        call('resolveStateSync', doc, () => resolveStateSync(rules, maps, events));
        break;
      }
      case 'lib:crypto': {
        const m = mutateValue(rng, rng.pick(corpus.pdus).pdu, sizes, true);
        switch (rng.int(3)) {
          case 0: call('signJson', m, () => signJson(m as object, 'fuzz.test', KEY, { strict: rng.chance(0.5) })); break;
          case 1: call('verifyJson', m, () => verifyJson(m, rng.pick(['example.com', 'other.org', 'fuzz.test']), 'ed25519:k1', KEY.publicKey)); break;
          default: call('computeContentHashBase64', m, () => computeContentHashBase64(m as object, { strict: rng.chance(0.5) }));
        }
        break;
      }
    }
  }
  stats.ms = performance.now() - t0;
  return stats;
}

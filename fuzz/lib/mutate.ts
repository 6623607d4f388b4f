/**
 * Mutators: structural mutations of JSON values (hostile values in every field, wrong types,
 * deleted and added keys, duplicate and `__proto__` keys, forged hashes and signatures, cycles and
 * self references for the library), a serializer that can write what JSON.stringify cannot
 * (duplicate keys, `-0`, integers past 2^53, lone-surrogate escapes, deep nesting), and byte-level
 * mutations of the text (invalid UTF-8, BOM, NUL, CR, truncation, flips).
 */
import type { Rng } from './rng.js';

/** Text written verbatim by {@link serialize} (a token JSON.stringify cannot produce). */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object written with its entries as given (so a key may appear twice). */
export class DupKeys {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

const KEYS = ['type', 'content', 'state_key', 'room_id', 'sender', 'event_id', 'depth', 'prev_events', 'auth_events', 'hashes', 'signatures',
  'origin_server_ts', 'unsigned', 'redacts', 'membership', 'users', 'users_default', 'events', 'state_default', 'ban', 'kick', 'invite',
  'join_rule', 'allow', 'room_version', 'creator', 'additional_creators', 'join_authorised_via_users_server', 'third_party_invite',
  '__proto__', 'constructor', 'prototype', 'toString', 'sha256', 'ed25519:k1', 'room_version', 'events', 'state_sets', 'auth_events',
  'server_keys', 'event', '', '\u0000', '\ud800', 'é', '\ufeff'];
const TYPES = ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.third_party_invite', 'm.room.redaction',
  'm.room.message', 'm.room.aliases', 'm.room.history_visibility', 'm.room.topic'];

function randomString(rng: Rng, n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$!@:._-+/=';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function randomBase64(rng: Rng, bytes: number): string {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = rng.int(256);
  return b.toString('base64').replace(/=+$/, '');
}

function deepArray(n: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

/** Limits of a fuzz run (the slice keeps inputs small; the full run goes further). */
export interface Sizes {
  /** Longest hostile string. */
  readonly maxString: number;
  /** Longest hostile array. */
  readonly maxArray: number;
}

/** A hostile replacement value. `library`: values that are not JSON (cycles, BigInt, …) too. */
export function hostileValue(rng: Rng, sizes: Sizes, library: boolean, container?: unknown, root?: unknown): unknown {
  const k = rng.int(library ? 34 : 28);
  switch (k) {
    case 0: return 1.5;
    case 1: return 1e300;
    case 2: return new Raw('-0');
    case 3: return 2 ** 53;
    case 4: return new Raw('9007199254740993');
    case 5: return new Raw('1e400');
    case 6: return -(2 ** 63);
    case 7: return 'x'.repeat(rng.int(sizes.maxString));
    case 8: return Array.from({ length: rng.int(sizes.maxArray) }, (_, i) => (rng.chance(0.5) ? i : `$e${i}`));
    case 9: return new Raw('['.repeat(600) + ']'.repeat(600));
    case 10: return new Raw(rng.chance(0.1) ? '['.repeat(100_000) + ']'.repeat(100_000) : '{"a":'.repeat(513) + '1' + '}'.repeat(513));
    case 11: return new Raw('{"__proto__":{"polluted":true},"a":1}');
    case 12: return new Raw('"\\ud800"');
    case 13: return new Raw('"a\\udc00b"');
    case 14: return '\u0000\u0001\u001f';
    case 15: return '\ufeff';
    case 16: return null;
    case 17: return rng.chance(0.5);
    case 18: return {};
    case 19: return [];
    case 20: return rng.pick(TYPES);
    case 21: return `@${randomString(rng, 5)}:${randomString(rng, 4)}`;
    case 22: return `$${randomString(rng, 20)}`;
    case 23: return randomBase64(rng, rng.pick([32, 64, 31, 65]));
    case 24: return rng.int(2 ** 31) - 2 ** 30;
    case 25: return new Raw('1.0');
    case 26: return new Raw('1E2');
    case 27: return String(rng.u32());
    // Library only: values that are not JSON at all.
    case 28: return container ?? root ?? {};
    case 29: return root ?? {};
    case 30: return 10n ** BigInt(rng.int(40));
    case 31: return rng.pick([undefined, NaN, Infinity, -Infinity]);
    case 32: return deepArray(rng.chance(0.2) ? 100_000 : 600);
    default: { const a: unknown[] = [1, 2]; a[5] = 3; return rng.chance(0.5) ? a : Object.assign(Object.create(null) as object, { membership: 'join' }); }
  }
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return v !== null && typeof v === 'object' && !(v instanceof Raw) && !(v instanceof DupKeys);
}

/** A structural deep copy (plain JSON data only; markers are shared). */
export function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone);
  if (isContainer(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: clone((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** A random container inside `root` (a random walk down from the root). */
function randomContainer(rng: Rng, root: unknown): Record<string, unknown> | unknown[] | undefined {
  if (!isContainer(root)) return undefined;
  let cur: Record<string, unknown> | unknown[] = root;
  for (let d = 0; d < 8 && rng.chance(0.55); d++) {
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const next = (cur as Record<string, unknown>)[rng.pick(keys)];
    if (!isContainer(next)) break;
    cur = next;
  }
  return cur;
}

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** 1–3 structural mutations of a copy of `seed`. */
export function mutateValue(rng: Rng, seed: unknown, sizes: Sizes, library: boolean): unknown {
  let root = clone(seed);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.03)) {
      root = hostileValue(rng, sizes, library, undefined, undefined);
      continue;
    }
    const c = randomContainer(rng, root);
    if (c === undefined) {
      root = hostileValue(rng, sizes, library);
      continue;
    }
    const keys = Object.keys(c);
    const op = rng.int(9);
    if (Array.isArray(c)) {
      if (op < 4 && c.length > 0) c[rng.int(c.length)] = hostileValue(rng, sizes, library, c, root);
      else if (op < 6) c.push(hostileValue(rng, sizes, library, c, root));
      else if (c.length > 0) c.splice(rng.int(c.length), 1);
      continue;
    }
    const o = c as Record<string, unknown>;
    switch (op) {
      case 0: case 1: case 2:
        if (keys.length > 0) setOwn(o, rng.pick(keys), hostileValue(rng, sizes, library, o, root));
        break;
      case 3:
        if (keys.length > 0) delete o[rng.pick(keys)];
        break;
      case 4:
        setOwn(o, rng.pick(KEYS), hostileValue(rng, sizes, library, o, root));
        break;
      case 5: {
        // Wrong type: a string becomes a number, a number a string, an object an array…
        if (keys.length === 0) break;
        const k = rng.pick(keys);
        const v = o[k];
        setOwn(o, k, typeof v === 'string' ? rng.int(1000) : typeof v === 'number' ? String(v) : Array.isArray(v) ? { 0: v[0] ?? null } : isContainer(v) ? Object.values(v) : `${String(v)}`);
        break;
      }
      case 6: {
        // Forged hash or signature (right shape, wrong value).
        if (rng.chance(0.5)) setOwn(o, 'hashes', { sha256: randomBase64(rng, 32) });
        else setOwn(o, 'signatures', { [rng.pick(['example.com', 'other.org', 'third.net', 'evil.test'])]: { 'ed25519:k1': randomBase64(rng, 64) } });
        break;
      }
      case 7: {
        // A duplicate key (the strict parser must refuse it).
        if (keys.length === 0) break;
        const k = rng.pick(keys);
        const entries: [string, unknown][] = keys.map((x) => [x, o[x]]);
        entries.splice(rng.int(entries.length + 1), 0, [k, hostileValue(rng, sizes, false)]);
        for (const x of keys) delete o[x];
        setOwn(o, `__dup${rng.u32()}`, new DupKeys(entries));
        break;
      }
      default:
        setOwn(o, 'type', rng.pick(TYPES));
        if (rng.chance(0.5)) setOwn(o, 'state_key', rng.chance(0.5) ? '' : hostileValue(rng, sizes, false));
    }
  }
  return root;
}

/**
 * JSON text of `v`, writing {@link Raw} tokens verbatim and {@link DupKeys} objects with their
 * repeated keys (an object holding one `__dupN` key whose value is a DupKeys is written as that
 * DupKeys). Non-JSON values are written as JSON.stringify would (`null`); cycles as `null`.
 */
export function serialize(v: unknown, seen: Set<unknown> = new Set()): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof DupKeys) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${serialize(x, seen)}`).join(',')}}`;
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') {
    const s = JSON.stringify(v);
    return s === undefined ? 'null' : s;
  }
  if (seen.has(v)) return 'null';
  seen.add(v);
  let out: string;
  if (Array.isArray(v)) {
    out = `[${v.map((x) => serialize(x, seen)).join(',')}]`;
  } else {
    const keys = Object.keys(v);
    const dup = keys.length === 1 && keys[0]?.startsWith('__dup') ? (v as Record<string, unknown>)[keys[0]] : undefined;
    out = dup instanceof DupKeys ? serialize(dup, seen) : `{${keys.map((k) => `${JSON.stringify(k)}:${serialize((v as Record<string, unknown>)[k], seen)}`).join(',')}}`;
  }
  seen.delete(v);
  return out;
}

const INTERESTING = [0x00, 0x0d, 0xff, 0xfe, 0xc0, 0xc1, 0xe0, 0xed, 0xf4, 0xf5, 0x80, 0xbf, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x09, 0x20, 0x0a];
const INVALID_UTF8 = [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff, 0xfe]];

/** 1–4 byte-level mutations of `b` (a new buffer). */
export function mutateBytes(rng: Rng, b: Buffer): Buffer {
  let out: Buffer = b;
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(11)) {
      case 0: if (out.length > 0) { out = Buffer.from(out); const j = rng.int(out.length); out[j] = (out[j] as number) ^ (1 << rng.int(8)); } break;
      case 1: out = Buffer.concat([out.subarray(0, at), Buffer.from([rng.pick(INTERESTING)]), out.subarray(at)]); break;
      case 2: out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + rng.int(16)))]); break;
      case 3: out = out.subarray(0, at); break;
      case 4: out = Buffer.concat([out.subarray(0, at), out.subarray(rng.int(out.length + 1), at), out.subarray(at)]); break;
      case 5: out = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), out]); break;
      case 6: out = Buffer.concat([out.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), out.subarray(at)]); break;
      case 7: out = Buffer.concat([out.subarray(0, at), Buffer.from('\r'), out.subarray(at)]); break;
      case 8: out = Buffer.concat([out.subarray(0, at), Buffer.from('\\ud800'), out.subarray(at)]); break;
      case 9: out = Buffer.concat([out.subarray(0, at), Buffer.from([0x00]), out.subarray(at)]); break;
      default: out = Buffer.concat([out, Buffer.from(rng.chance(0.5) ? '\r' : ' ')]);
    }
  }
  return out;
}

/** A hostile input line for a JSON command: a structurally mutated seed, serialized, often byte-mutated. */
export function mutatedLine(rng: Rng, seed: unknown, sizes: Sizes): Buffer {
  const v = rng.chance(0.9) ? mutateValue(rng, seed, sizes, false) : seed;
  let text: Buffer = Buffer.from(serialize(v), 'utf8');
  if (rng.chance(0.35)) text = mutateBytes(rng, text);
  return text;
}

// Text columns: PostgreSQL `text` holds no U+0000 and (UTF-8) no unpaired surrogate, so ID
// columns hold their strings escaped by toText (src/codec.ts). The escape must be injective and
// exactly undone by fromText, leave ordinary IDs as they are, and keep the code-point order; the
// store must keep IDs that differ only in such characters apart (U+0000 vs U+0001 vs the escape,
// a lone surrogate vs U+FFFD, which is what a plain UTF-8 client would make of it).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isStoreError } from '@roomgraph/store';
import { fakeEvent } from '@roomgraph/store/conformance';
import { PostgresRoomStore } from '@roomgraph/store-postgres';
import { startTestDatabase, type TestDatabase } from '@roomgraph/store-postgres/testing';
import { fromText, toText } from '../src/codec.js';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

/** UTF-16 strings of any units (lone surrogates included), weighted towards the awkward ones. */
const units = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\u0000', '\u0001', '\u0002', '\u0003', '\ud800', '\udbff', '\udc00', '\udfff', '\ufffd', 'd', '8', 'a'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u{1F600}', '\u{10FFFF}'),
  ),
  maxLength: 40,
});
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Code-point order (UTF-8 byte order, as `COLLATE "C"` compares). */
const cmp = (a: string, b: string): number => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('toText / fromText', () => {
  it('fromText undoes toText exactly; the text holds no U+0000 and no lone surrogate', () => {
    fc.assert(
      fc.property(units, (s) => {
        const t = toText(s);
        expect(fromText(t)).toBe(s);
        expect(t.includes('\u0000')).toBe(false);
        expect(LONE.test(t)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('is injective (distinct strings, distinct texts)', () => {
    fc.assert(fc.property(units, units, (a, b) => (a === b) === (toText(a) === toText(b))), { numRuns: 3000 });
    const close = ['\u0000', '\u0001', '\u0001\u0001', '\u0001\u0002', '\u0000\u0001', '\u0001\u0000', '\ud800', '\ufffd', '\u0001\u0003d800', 'x'];
    expect(new Set(close.map(toText)).size).toBe(close.length);
  });

  it('leaves strings without U+0000, U+0001 or a lone surrogate as they are', () => {
    for (const s of ['$abc:example.org', '!room:example.org', '\u{1F600}', '\u202Eabc', '__proto__', '', 'ed25519:a_1', '\\u0000']) expect(toText(s)).toBe(s);
    fc.assert(fc.property(units.filter((s) => !/[\u0000\u0001]/.test(s) && !LONE.test(s)), (s) => toText(s) === s));
  });

  it('keeps the code-point order of strings without lone surrogates (ORDER BY … COLLATE "C")', () => {
    const plain = units.filter((s) => !LONE.test(s));
    fc.assert(fc.property(plain, plain, (a, b) => cmp(toText(a), toText(b)) === cmp(a, b)), { numRuns: 3000 });
  });

  it('refuses text no toText wrote (STORE_CORRUPT)', () => {
    for (const t of ['\u0001', 'a\u0001', '\u0001x', '\u0001\u0003', '\u0001\u0003d8', '\u0001\u0003zzzz', '\u0001\u0003e000', '\u0001\u0004']) {
      let err: unknown;
      try {
        fromText(t);
      } catch (e) {
        err = e;
      }
      expect(isStoreError(err, 'STORE_CORRUPT'), JSON.stringify(t)).toBe(true);
    }
  });
});

describe('PostgresRoomStore: IDs the server cannot hold as they are', () => {
  it('keeps lone surrogates, U+FFFD, U+0000 and the escape apart in every ID column', async () => {
    // (The engine never hands a store a lone surrogate — the strict parser refuses them — but the
    // store API takes any string, and a plain UTF-8 client would store one as U+FFFD, merging IDs.)
    const db = await startTestDatabase();
    dbs.push(db);
    const ids = ['\ud800', '\udfff', '\ufffd', 'x\udc00y', '\u0000', '\u0001', '\u0001\u0003d800', '\u{1F600}'];
    let store = new PostgresRoomStore(db.url);
    await store.open();
    try {
      for (const [i, s] of ids.entries()) {
        const roomId = `!${s}`;
        await store.commit({
          roomId,
          createRoom: { roomVersion: s, createEventId: `$${s}` },
          event: { event: fakeEvent(`$${s}`, { type: 'm.room.create', stateKey: '', roomId, content: { [s]: s } }), status: 'accepted', stateBefore: { ref: 'a' } },
          snapshots: [{ ref: 'a', parent: null, changes: { set: [[s, `$${s}`]] } }],
          forwardExtremities: [`$${s}`],
          currentState: { ref: 'a' },
        });
        await store.putServerKeys([{ server: s, keyId: s, publicKey: s, validUntilTs: i }]);
        await store.parkEvents([{ eventId: `$p${s}`, roomId, json: { [s]: s }, receivedTs: i }]);
      }
      for (let pass = 0; pass < 2; pass++) {
        expect([...(await store.listRooms())].sort()).toEqual(ids.map((s) => `!${s}`).sort());
        for (const [i, s] of ids.entries()) {
          const room = await store.getRoom(`!${s}`);
          expect(room?.roomVersion).toBe(s);
          expect(room?.createEventId).toBe(`$${s}`);
          const ev = await store.getEvent(`$${s}`);
          expect(ev?.roomId).toBe(`!${s}`);
          expect(ev?.json['content']).toEqual({ [s]: s });
          expect((await store.timeline(`!${s}`)).map((e) => e.eventId)).toEqual([`$${s}`]);
          expect((await store.loadState(room!.currentState!)).get(s)).toBe(`$${s}`);
          expect(await store.getServerKey(s, s)).toEqual({ server: s, keyId: s, publicKey: s, validUntilTs: i });
          expect((await store.listParkedEvents(`!${s}`)).map((p) => p.eventId)).toEqual([`$p${s}`]);
        }
        await store.close();
        store = new PostgresRoomStore(db.url);
        await store.open();
      }
    } finally {
      await store.close();
    }
  });
});

describe('PostgresRoomStore: IDs beyond an index entry', () => {
  it('an event ID past PostgreSQL\'s B-tree entry limit (~2.7 kB) is refused with STORE_IO; nothing is written, reopening finds the store as it was; a key ID that long is cached', async () => {
    // (Matrix caps IDs at 255 bytes and the engine drops longer ones, H4: only a direct caller of
    // the store meets this. Random base64 does not compress, so the entry stays long.)
    const db = await startTestDatabase();
    dbs.push(db);
    const long = `$${randomBytes(6000).toString('base64')}`;
    let store = new PostgresRoomStore(db.url);
    await store.open();
    try {
      const c = await store.commit({
        roomId: '!r:x',
        createRoom: { roomVersion: '10', createEventId: '$c' },
        event: { event: fakeEvent('$c', { type: 'm.room.create', stateKey: '', roomId: '!r:x' }), status: 'accepted', stateBefore: { ref: 'a' } },
        snapshots: [{ ref: 'a', parent: null, changes: {} }],
        forwardExtremities: ['$c'],
        currentState: { ref: 'a' },
      });
      const stats = await store.stats();
      const err = await store.commit({ roomId: '!r:x', event: { event: fakeEvent(long, { roomId: '!r:x', prev: ['$c'] }), status: 'accepted', stateBefore: c.room.currentState! } }).then(() => undefined, (e: unknown) => e);
      expect(isStoreError(err, 'STORE_IO')).toBe(true);
      await store.close();
      store = new PostgresRoomStore(db.url);
      await store.open();
      expect(await store.getEvent(long)).toBeUndefined();
      expect(await store.getServerKeys('x')).toEqual([]);
      // Server keys are keyed by digests (schema version 3): the spec sets no length for a key ID,
      // which the remote server chooses. Two long IDs differing in their last character, a long
      // server name; each read back by its own names only; a put replaces its own row.
      const longKey = `ed25519:${long.slice(1).replace(/[^A-Za-z0-9]/g, '_')}`;
      const longServer = `${'s'.repeat(4000)}.example`;
      await store.putServerKeys([
        { server: 'x', keyId: `${longKey}a`, publicKey: 'A' },
        { server: 'x', keyId: `${longKey}b`, publicKey: 'B', validUntilTs: 5 },
        { server: longServer, keyId: `${longKey}a`, publicKey: 'C' },
      ]);
      await store.putServerKeys([{ server: 'x', keyId: `${longKey}b`, publicKey: 'B2', expiredTs: 7 }]);
      expect(await store.getServerKey('x', `${longKey}a`)).toEqual({ server: 'x', keyId: `${longKey}a`, publicKey: 'A' });
      expect(await store.getServerKey('x', `${longKey}b`)).toEqual({ server: 'x', keyId: `${longKey}b`, publicKey: 'B2', expiredTs: 7 });
      expect(await store.getServerKey('x', `${longKey}c`)).toBeUndefined();
      expect(await store.getServerKey(longServer, `${longKey}b`)).toBeUndefined();
      expect((await store.getServerKeys('x')).map((k) => k.publicKey)).toEqual(['A', 'B2']);
      expect((await store.getServerKeys(longServer)).map((k) => k.publicKey)).toEqual(['C']);
      await store.close();
      store = new PostgresRoomStore(db.url);
      await store.open();
      expect((await store.getServerKeys('x')).map((k) => k.keyId)).toEqual([`${longKey}a`, `${longKey}b`]);
      expect(await store.getRoom('!r:x')).toEqual(c.room);
      expect(await store.stats()).toEqual(stats);
    } finally {
      await store.close();
    }
  });
});

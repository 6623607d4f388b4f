/**
 * The journal's record encoding (`src/journal.ts`): records built op by op read back as the same
 * ops; the value bytes handed to LevelDB (views of the journal's buffer) keep their content while
 * the buffer grows and more records are appended; a torn or damaged record ends the journal; a
 * rewound batch leaves nothing in its record. And through the store: a journal replayed on open
 * (its value bytes written to LevelDB as they are in the file) gives back exactly what was
 * committed, awkward strings included.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeEvent } from '@roomgraph/store/conformance';
import { LEVEL_JOURNAL_FILE, LevelRoomStore } from '@roomgraph/store-level';
import zlib from 'node:zlib';
import { CRC32_FLAG, JournalBuffer, crc32Bytes, crc32Js, decodeJournal, fnvBytes, type BatchOp } from '../src/journal.js';
import { ROOM, createRoom, heldJournalStore, journaledRoom, tempRoot } from './helpers.js';

/** An event as the store takes it (what `fakeEvent` makes). */
type RoomEvent = ReturnType<typeof fakeEvent>;

/** An op as the model sees it: kind, key, and (puts) the value's text. */
type ModelOp = readonly ['put', string, string] | readonly ['del', string];

/** Any strings, lone surrogates too (written as UTF-8, they become U+FFFD, as LevelDB's binding does). */
const text = fc.string({ unit: 'binary', maxLength: 40 });
const op: fc.Arbitrary<ModelOp> = fc.oneof(
  fc.tuple(fc.constant('put' as const), text, fc.oneof(text, fc.string({ unit: 'binary', minLength: 100, maxLength: 400 }))),
  fc.tuple(fc.constant('del' as const), text),
);
/** Records of ops; per record, whether a rewound (abandoned) batch of ops is appended after the first op. */
const records = fc.array(fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 12 }), abandoned: fc.array(op, { maxLength: 4 }), at: fc.nat() }), { minLength: 1, maxLength: 12, size: 'max' });

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const view = (o: BatchOp): ModelOp => (o.type === 'del' ? ['del', o.key] : ['put', o.key, typeof o.value === 'string' ? o.value : o.value.toString('utf8')]);
/** The model's op as it reads back (a key or value through UTF-8). */
const roundTrip = (o: ModelOp): ModelOp => (o[0] === 'del' ? ['del', utf8(o[1]).toString('utf8')] : ['put', utf8(o[1]).toString('utf8'), utf8(o[2]).toString('utf8')]);

function append(j: JournalBuffer, o: ModelOp): Buffer | undefined {
  if (o[0] === 'del') {
    j.del(o[1]);
    return undefined;
  }
  return j.put(o[1], o[2]);
}

describe('journal records (src/journal.ts)', () => {
  it('read back as the ops appended; every value view keeps its bytes while the buffer grows and records follow', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 1, max: 64 }), (recs, size) => {
        const j = new JournalBuffer(size); // small: the buffer grows, mid-record too
        const file: Buffer[] = [];
        const views: [Buffer, string][] = [];
        for (const r of recs) {
          expect(j.open).toBe(false);
          const first = r.ops[0]!;
          const v = append(j, first);
          if (v !== undefined && first[0] === 'put') views.push([v, first[2]]);
          // A batch that fails to encode midway is rewound: nothing of it stays.
          const mark = j.mark();
          for (const o of r.abandoned) append(j, o);
          j.rewind(mark);
          for (const o of r.ops.slice(1)) {
            const w = append(j, o);
            if (w !== undefined && o[0] === 'put') views.push([w, o[2]]);
          }
          expect(j.open).toBe(true);
          j.close();
          file.push(Buffer.from(j.unwritten()));
          j.written();
          expect(j.unwritten().length).toBe(0);
        }
        const all = Buffer.concat(file);
        expect(decodeJournal(all).map(view)).toEqual(recs.flatMap((r) => r.ops).map(roundTrip));
        for (const [v, s] of views) expect(Buffer.compare(v, utf8(s))).toBe(0);
        // Cut anywhere inside the last record: exactly the records before it are read.
        const lastStart = all.length - file[file.length - 1]!.length;
        const cut = lastStart + (recs[recs.length - 1]!.at % (all.length - lastStart));
        expect(decodeJournal(all.subarray(0, cut)).map(view)).toEqual(recs.slice(0, -1).flatMap((r) => r.ops).map(roundTrip));
      }),
      { numRuns: 300 },
    );
  });

  it('the checksum is FNV-1a over the bytes, wherever they sit in memory (word reads are an optimisation)', () => {
    const reference = (b: Uint8Array, from: number, to: number): number => {
      let h = 0x811c9dc5;
      for (let i = from; i < to; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
      return h >>> 0;
    };
    expect(fnvBytes(Buffer.from('a'), 0, 1)).toBe(0xe40c292c); // the published FNV-1a 32 test vector
    expect(fnvBytes(Buffer.from('foobar'), 0, 6)).toBe(0xbf9cf968);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300, size: 'max' }), fc.nat(7), fc.nat(), fc.nat(), (bytes, shift, a, c) => {
        // Every alignment of the data: a view `shift` bytes into a larger buffer.
        const backing = Buffer.alloc(bytes.length + 8);
        backing.set(bytes, shift);
        const view = backing.subarray(shift, shift + bytes.length);
        const from = bytes.length === 0 ? 0 : a % bytes.length;
        const to = from + (c % (bytes.length - from + 1));
        expect(fnvBytes(view, from, to)).toBe(reference(bytes, from, to));
      }),
      { numRuns: 2000 },
    );
  });

  it('records are written with a CRC-32 checksum (header bit 31 set); the JavaScript CRC-32 is zlib\'s', () => {
    expect(crc32Js(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926); // the published CRC-32 check value
    expect(crc32Bytes(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, a, c) => {
        const from = bytes.length === 0 ? 0 : a % bytes.length;
        const to = from + (c % (bytes.length - from + 1));
        const want = zlib.crc32(bytes.subarray(from, to));
        expect(crc32Js(bytes, from, to)).toBe(want);
        expect(crc32Bytes(bytes, from, to)).toBe(want);
      }),
      { numRuns: 500 },
    );
    const j = new JournalBuffer();
    j.put('key', 'value é');
    j.del('gone');
    j.close();
    const record = j.unwritten();
    const header = record.readUInt32LE(0);
    expect(header & CRC32_FLAG).not.toBe(0);
    expect(8 + (header & ~CRC32_FLAG)).toBe(record.length);
    expect(record.readUInt32LE(4)).toBe(zlib.crc32(record.subarray(8)));
    // The same payload under an FNV-1a header (as earlier versions wrote it) reads the same.
    const old = Buffer.from(record);
    old.writeUInt32LE(record.length - 8, 0);
    old.writeUInt32LE(fnvBytes(record, 8, record.length), 4);
    expect(decodeJournal(old).map(view)).toEqual([['put', 'key', 'value é'], ['del', 'gone']]);
    expect(decodeJournal(Buffer.from(record)).map(view)).toEqual([['put', 'key', 'value é'], ['del', 'gone']]);
    // A CRC-32 record under the FNV-1a header's flag, or the reverse, is damaged.
    const flipped = Buffer.from(record);
    flipped.writeUInt32LE(record.length - 8, 0);
    expect(decodeJournal(flipped)).toEqual([]);
  });

  it('a rewind to before the first op drops the open record; a damaged record ends the journal', () => {
    const j = new JournalBuffer(8);
    j.put('a', 'x');
    j.close();
    const first = Buffer.from(j.unwritten());
    j.written();
    const mark = j.mark();
    expect(mark).toBe(-1);
    j.put('b', 'y');
    j.del('c');
    j.rewind(mark);
    expect(j.open).toBe(false);
    expect(j.unwritten().length).toBe(0);
    j.put('d', 'é𝄞');
    j.close();
    const second = Buffer.from(j.unwritten());
    expect(decodeJournal(Buffer.concat([first, second])).map(view)).toEqual([['put', 'a', 'x'], ['put', 'd', 'é𝄞']]);
    const damaged = Buffer.from(second);
    damaged[damaged.length - 1]! ^= 1;
    expect(decodeJournal(Buffer.concat([first, damaged, second])).map(view)).toEqual([['put', 'a', 'x']]);
  });

  it('a reset starts over at the beginning of the buffer', () => {
    const j = new JournalBuffer(1024);
    j.put('k', 'v'.repeat(100));
    j.close();
    j.written();
    expect(j.length).toBeGreaterThan(100);
    j.reset();
    expect(j.length).toBe(0);
    j.put('k2', 'w');
    j.close();
    expect(decodeJournal(j.unwritten()).map(view)).toEqual([['put', 'k2', 'w']]);
  });
});

const root = tempRoot('journal-buffer');

describe('store-level journal replay of value bytes', () => {
  it('a journal left behind is replayed into LevelDB as written: every event and string comes back exactly', async () => {
    const dir = join(root, 'replay');
    const { store, s, release } = await heldJournalStore(dir);
    const bodies = ['plain', 'é ü ñ', '𝄞 astral 😀', 'NUL\u0000 and "quotes" \\ back', '\u2028\u2029', 'x'.repeat(70_000), 'רשת RTL'];
    const events: RoomEvent[] = [];
    let prev = '$create';
    for (const [i, body] of bodies.entries()) {
      const id = `$e${i}`;
      const event = fakeEvent(id, { prev: [prev], auth: ['$create'], depth: 2 + i, content: { body, [`k${body.slice(0, 8)}`]: i } });
      events.push(event);
      await store.commitMany([{ roomId: ROOM, event: { event, status: 'accepted', stateBefore: s }, forwardExtremities: [id] }]);
      prev = id;
    }
    // The database as a killed process would leave it: LevelDB without the commits, the journal with them.
    const copy = join(root, 'replay-copy');
    cpSync(dir, copy, { recursive: true });
    expect(readFileSync(join(copy, LEVEL_JOURNAL_FILE)).length).toBeGreaterThan(70_000);
    release();
    await store.close();

    const again = new LevelRoomStore(copy);
    await again.open();
    expect((await again.timeline(ROOM)).map((e) => e.eventId)).toEqual(['$create', ...events.map((e) => e.eventId)]);
    for (const e of events) {
      const got = await again.getEvent(e.eventId);
      expect(got?.json).toEqual(e.json);
      expect(got?.status).toBe('accepted');
    }
    expect((await again.getRoom(ROOM))!.forwardExtremities).toEqual([`$e${bodies.length - 1}`]);
    await again.close();
    // And from LevelDB alone (the journal is empty now), after a second opening.
    expect(readFileSync(join(copy, LEVEL_JOURNAL_FILE)).length).toBe(0);
    const third = new LevelRoomStore(copy);
    await third.open();
    for (const e of events) expect((await third.getEvent(e.eventId))?.json).toEqual(e.json);
    await third.close();
  });

  it('commits journaled while earlier LevelDB writes run reach LevelDB intact (their bytes are not reused before written)', async () => {
    const dir = join(root, 'stream');
    const { store, s } = await journaledRoom(dir);
    const events: RoomEvent[] = [];
    let prev = '$create';
    // Blocks of varied sizes and bodies, the writer running meanwhile (it takes 128 batches or 5 ms).
    for (let b = 0; b < 40; b++) {
      const block = [];
      for (let i = 0; i < 1 + ((b * 37) % 60); i++) {
        const id = `$s${b}_${i}`;
        const event = fakeEvent(id, { prev: [prev], auth: ['$create'], depth: 2 + events.length, content: { body: `${id} ü𝄞 `.repeat(1 + ((b + i) % 50)) } });
        events.push(event);
        block.push({ roomId: ROOM, event: { event, status: 'accepted' as const, stateBefore: s }, forwardExtremities: [id] });
        prev = id;
      }
      await store.commitMany(block);
      if (b % 7 === 3) await new Promise((r) => setTimeout(r, 6));
    }
    await store.close();
    const again = new LevelRoomStore(dir);
    await again.open();
    const got = await again.getEvents(events.map((e) => e.eventId));
    for (const e of events) expect(got.get(e.eventId)?.json).toEqual(e.json);
    await again.close();
  });

  it('a commit that fails to encode leaves nothing in the journal record (a promotion deleting a stream row included)', async () => {
    const dir = join(root, 'unencodable');
    const { store, s } = await journaledRoom(dir);
    const outlier = fakeEvent('$o', { prev: ['$create'], auth: ['$create'], depth: 2 });
    await store.commit({ roomId: ROOM, event: { event: outlier, status: 'outlier' } });
    const a = fakeEvent('$a', { prev: ['$create'], auth: ['$create'], depth: 2 });
    await store.commit({ roomId: ROOM, event: { event: a, status: 'accepted', stateBefore: s }, forwardExtremities: ['$a'] }, { durable: false });
    // The promotion's batch deletes the outlier's stream row, then its record fails to encode
    // (JSON has no BigInt): the store fails, and the open record must not keep that delete.
    const bad = { ...outlier, json: { ...outlier.json, content: { n: BigInt(1) } } } as unknown as RoomEvent;
    const promoted = await store.commit({ roomId: ROOM, event: { event: bad, status: 'accepted', stateBefore: s }, forwardExtremities: ['$a', '$o'] }, { durable: false });
    expect(promoted.promoted).toBe(true);
    await expect(store.flush()).rejects.toThrow(/BigInt/);
    await store.close();
    const again = new LevelRoomStore(dir);
    await again.open();
    const timeline = await again.timeline(ROOM);
    expect(timeline.map((e) => [e.eventId, e.status])).toEqual([['$create', 'accepted'], ['$o', 'outlier'], ['$a', 'accepted']]);
    await again.close();
  });

  it('a journal record that an earlier version wrote (text encoded apart from LevelDB) replays the same', async () => {
    // The record format is unchanged: a hand-built record of the documented layout is replayed.
    const dir = join(root, 'handmade');
    const store = new LevelRoomStore(dir);
    await store.open();
    await createRoom(store);
    await store.close();
    const ops: [string, string][] = [['!meta!probe', 'värde 𝄞']];
    const parts: Buffer[] = [];
    for (const [k, v] of ops) {
      const kb = utf8(k);
      const vb = utf8(v);
      const h = Buffer.alloc(5);
      h[0] = 0;
      h.writeUInt32LE(kb.length, 1);
      const vl = Buffer.alloc(4);
      vl.writeUInt32LE(vb.length, 0);
      parts.push(h, kb, vl, vb);
    }
    const payload = Buffer.concat(parts);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(payload.length, 0);
    let hash = 0x811c9dc5;
    for (const b of payload) hash = Math.imul(hash ^ b, 0x01000193);
    head.writeUInt32LE(hash >>> 0, 4);
    writeFileSync(join(dir, LEVEL_JOURNAL_FILE), Buffer.concat([head, payload]));
    const again = new LevelRoomStore(dir);
    await again.open();
    expect(await again.db.get('!meta!probe')).toBe('värde 𝄞');
    await again.close();
  });
});

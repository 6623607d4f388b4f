/** The durable outbound transaction queue: batching, one transaction in flight, retries, catch-up, restart. */
import { mkdtempSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '@roomgraph/canonical-json';
import { TransportError } from '@roomgraph/transport';
import { TransactionQueue, type TransactionResult } from '@roomgraph/federation-http';

const pdu = (room: string, depth: number): JsonObject => ({ event_id: `$${room}-${depth}`, room_id: `!${room}:x`, depth });

interface Call { d: string; txnId: string; ids: string[]; release: (r?: TransactionResult | Error) => void }

/** A send function whose calls wait until the test releases them (a gate per call). */
function gatedSend() {
  const calls: Call[] = [];
  let waiter: (() => void) | undefined;
  const send = (d: string, txnId: string, pdus: readonly JsonObject[]): Promise<TransactionResult> => new Promise((resolve, reject) => {
    calls.push({ d, txnId, ids: pdus.map((p) => String(p['event_id'])), release: (r) => (r instanceof Error ? reject(r) : resolve(r ?? {})) });
    waiter?.();
  });
  const next = async (n: number): Promise<Call> => {
    while (calls.length < n) await new Promise<void>((r) => { waiter = r; });
    return calls[n - 1]!;
  };
  return { calls, send, next };
}

const dir = () => mkdtempSync(join(tmpdir(), 'rg-queue-'));

describe('TransactionQueue', () => {
  it('sends at most 50 PDUs per transaction, one transaction in flight per destination, in order', async () => {
    const g = gatedSend();
    const q = new TransactionQueue({ file: join(dir(), 'q.jsonl'), send: g.send });
    await q.open();
    await q.enqueue(['b', 'c'], Array.from({ length: 120 }, (_, i) => pdu('r', i)));
    const first = await g.next(2);
    expect(g.calls.map((c) => [c.d, c.ids.length])).toEqual([['b', 50], ['c', 50]]);
    // Still one in flight each: nothing more is sent until released.
    await Promise.resolve();
    expect(g.calls).toHaveLength(2);
    first.release();
    const b2 = await g.next(3);
    expect([b2.d, b2.ids[0], b2.ids.length]).toEqual(['c', '$r-50', 50]);
    g.calls[0]!.release();
    await g.next(4);
    for (let i = 3; ; i++) {
      const c = await g.next(i);
      c.release();
      if (g.calls.length >= 6 && q.destinations().length === 0) break;
      if (i >= 6) break;
    }
    await q.idle();
    const toB = g.calls.filter((c) => c.d === 'b').flatMap((c) => c.ids);
    expect(toB).toEqual(Array.from({ length: 120 }, (_, i) => `$r-${i}`));
    await q.close();
  });

  it('an unreachable destination is retried with back-off and the same transaction ID; a refusal is dropped', async () => {
    const g = gatedSend();
    let clock = 0;
    const q = new TransactionQueue({ file: join(dir(), 'q.jsonl'), send: g.send, now: () => clock, initialBackoffMs: 1000 });
    await q.open();
    await q.enqueue(['b'], [pdu('r', 1)]);
    (await g.next(1)).release(new TransportError('TRANSPORT_UNREACHABLE', 'b', 'down'));
    await new Promise((r) => setTimeout(r, 0));
    expect(g.calls).toHaveLength(1);
    expect(q.pending('b')).toBe(1);
    clock = 5000;
    q.wake('b');
    const retry = await g.next(2);
    expect(retry.txnId).toBe(g.calls[0]!.txnId);
    retry.release(new TransportError('TRANSPORT_REJECTED', 'b', 'forbidden', 'M_FORBIDDEN'));
    await q.idle();
    expect(q.pending('b')).toBe(0);
    await q.close();
  });

  it('survives a restart: journalled PDUs not yet delivered are sent after reopening (a torn last line is ignored)', async () => {
    const file = join(dir(), 'q.jsonl');
    const g = gatedSend();
    const q = new TransactionQueue({ file, send: g.send });
    await q.open();
    await q.enqueue(['b'], [pdu('r', 1), pdu('r', 2)]);
    await q.enqueue(['c'], [pdu('s', 1)]);
    (await g.next(1)).release(); // b delivered
    await g.next(2); // c in flight when the process "dies"
    await q.close();
    appendFileSync(file, '{"a":"q","s":99,"ds":["b"],"p":{"event_id":"$torn"');
    const g2 = gatedSend();
    const q2 = new TransactionQueue({ file, send: g2.send });
    await q2.open();
    const c = await g2.next(1);
    expect([c.d, c.ids]).toEqual(['c', ['$s-1']]);
    c.release();
    await q2.idle();
    expect(g2.calls).toHaveLength(1);
    await q2.close();
    // Compacted on open: only what was pending then.
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"a":"q"'))).toHaveLength(1);
  });

  it('catch-up: a destination back from failures with a long backlog gets the newest event of each room only', async () => {
    const g = gatedSend();
    let clock = 0;
    const logs: string[] = [];
    const q = new TransactionQueue({ file: join(dir(), 'q.jsonl'), send: g.send, now: () => clock, catchUpThreshold: 5, log: (l) => logs.push(l) });
    await q.open();
    await q.enqueue(['b'], [pdu('r', 1)]);
    (await g.next(1)).release(new TransportError('TRANSPORT_UNREACHABLE', 'b', 'down'));
    await new Promise((r) => setTimeout(r, 0));
    await q.enqueue(['b'], [...Array.from({ length: 10 }, (_, i) => pdu('r', i + 2)), pdu('s', 1), pdu('s', 2)]);
    clock = 10_000;
    q.wake('b');
    const c = await g.next(2);
    expect(c.ids).toEqual(['$r-11', '$s-2']);
    c.release();
    await q.idle();
    expect(logs.some((l) => l.includes('get_missing_events'))).toBe(true);
    await q.close();
  });
});

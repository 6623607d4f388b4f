/** checkedTransport: remote answers of the wrong shape are typed errors; lists keep only well-typed items. */
import { describe, expect, it } from 'vitest';
import { type Transport, TransportError, checkedTransport } from '@roomgraph/transport';

/** A transport whose every method answers `value`. */
function answering(value: unknown): Transport {
  const f = async (): Promise<never> => value as never;
  return { getEvent: f, getMissingEvents: f, getStateIds: f, getState: f, backfill: f, getServerKeys: f, makeJoin: f, sendJoin: f, sendPdus: f };
}

const bad = (e: unknown): boolean => e instanceof TransportError && e.code === 'TRANSPORT_BAD_RESPONSE' && e.destination === 'x.test';
const calls = (t: Transport): Array<[string, () => Promise<unknown>]> => [
  ['getMissingEvents', () => t.getMissingEvents('x.test', '!r:x', { earliestEvents: [], latestEvents: [], limit: 1 })],
  ['getStateIds', () => t.getStateIds('x.test', '!r:x', '$e')],
  ['getState', () => t.getState('x.test', '!r:x', '$e')],
  ['backfill', () => t.backfill('x.test', '!r:x', ['$e'], 5)],
  ['getServerKeys', () => t.getServerKeys('x.test')],
  ['makeJoin', () => t.makeJoin('x.test', '!r:x', '@u:y', ['11'])],
  ['sendJoin', () => t.sendJoin('x.test', '!r:x', '$e', {})],
  ['sendPdus', () => t.sendPdus('x.test', [])],
];

describe('checkedTransport', () => {
  it.each([[null], [42], ['text'], [true], [[1, 2]]])('answer %j where an object or list is due: TRANSPORT_BAD_RESPONSE', async (v) => {
    const t = checkedTransport(answering(v));
    for (const [name, call] of calls(t)) {
      // A list answer is fine where a list is due.
      if (Array.isArray(v) && (name === 'getMissingEvents' || name === 'backfill')) {
        expect(await call()).toEqual([]);
        continue;
      }
      await expect(call(), name).rejects.toSatisfy(bad);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) await expect(t.getEvent('x.test', '$e')).rejects.toSatisfy(bad);
  });

  it('keeps only objects in PDU lists and strings in ID lists; undefined event stays undefined', async () => {
    const pdu = { type: 'm.room.message' };
    expect(await checkedTransport(answering([pdu, 1, null, 'x', [pdu]])).backfill('x.test', '!r:x', [], 5)).toEqual([pdu]);
    expect(await checkedTransport(answering({ pduIds: ['$a', 2, null], authChainIds: ['$b'] })).getStateIds('x.test', '!r:x', '$e')).toEqual({ pduIds: ['$a'], authChainIds: ['$b'] });
    await expect(checkedTransport(answering({ pduIds: '$a', authChainIds: [] })).getStateIds('x.test', '!r:x', '$e')).rejects.toSatisfy(bad);
    expect(await checkedTransport(answering({ state: [pdu, 3], authChain: [] })).sendJoin('x.test', '!r:x', '$e', {})).toEqual({ state: [pdu], authChain: [] });
    await expect(checkedTransport(answering({ state: [], authChain: [], event: 'no' })).sendJoin('x.test', '!r:x', '$e', {})).rejects.toSatisfy(bad);
    await expect(checkedTransport(answering({ roomVersion: 11, event: {} })).makeJoin('x.test', '!r:x', '@u:y', ['11'])).rejects.toSatisfy(bad);
    expect(await checkedTransport(answering(undefined)).getEvent('x.test', '$e')).toBeUndefined();
    const results = JSON.parse('{"$a":{},"$b":{"error":"no"},"$c":5,"__proto__":{"error":"x"}}') as unknown;
    expect(await checkedTransport(answering(results)).sendPdus('x.test', [])).toEqual(
      Object.defineProperty({ '$a': {}, '$b': { error: 'no' }, '$c': {} }, '__proto__', { value: { error: 'x' }, enumerable: true, writable: true, configurable: true }),
    );
  });

  it('errors of the wrapped transport pass through unchanged', async () => {
    const e = new TransportError('TRANSPORT_UNREACHABLE', 'x.test', 'down');
    const t = checkedTransport({ ...answering({}), getEvent: async () => { throw e; } });
    await expect(t.getEvent('x.test', '$e')).rejects.toBe(e);
  });
});

import { describe, expect, it } from 'vitest';
import { RoomgraphError } from '@roomgraph/errors';
import { type FederationHandler, FederationRefusal, InProcessNetwork, TransportError } from '@roomgraph/transport';

/** A handler refusing every make_join with M_FORBIDDEN and failing send_join with a plain error. */
function refusing(): FederationHandler {
  const no = async (): Promise<never> => { throw new Error('not used'); };
  return {
    onGetEvent: no, onGetMissingEvents: no, onGetStateIds: no, onGetState: no, onBackfill: no, onGetServerKeys: no, onReceivePdus: no,
    onMakeJoin: async () => { throw new FederationRefusal('a.test', 'M_FORBIDDEN', 'no joins here'); },
    onSendJoin: async () => { throw new Error('boom'); },
  };
}

describe('InProcessNetwork', () => {
  it('a handler\'s FederationRefusal reaches the requester as TRANSPORT_REJECTED with the same errcode', async () => {
    const net = new InProcessNetwork();
    net.register('a.test', refusing());
    const t = net.transportFor('b.test');
    const e = await t.makeJoin('a.test', '!r:a.test', '@bob:b.test', ['12']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect(e).toBeInstanceOf(RoomgraphError);
    const te = e as TransportError;
    expect([te.code, te.errcode, te.destination, te.message]).toEqual(['TRANSPORT_REJECTED', 'M_FORBIDDEN', 'a.test', 'no joins here']);
    expect(te.cause).toBeInstanceOf(FederationRefusal);
    expect((te.cause as FederationRefusal).code).toBe('FEDERATION_REFUSED');
    // Anything else a handler throws is not a refusal and passes through unchanged.
    await expect(t.sendJoin('a.test', '!r:a.test', '$e', {})).rejects.toThrow('boom');
  });
  it('an unreachable server is TRANSPORT_UNREACHABLE', async () => {
    const net = new InProcessNetwork();
    await expect(net.transportFor('b.test').getEvent('a.test', '$e')).rejects.toSatisfy((e: unknown) => e instanceof TransportError && e.code === 'TRANSPORT_UNREACHABLE');
  });
});

/** Server-Server API › Request Authentication: the X-Matrix header, signing and verifying. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signingKeyFromSeed } from '@roomgraph/crypto';
import { FederationHttpError, parseXMatrix, signRequest, verifyRequest } from '@roomgraph/federation-http';

const key = signingKeyFromSeed(new Uint8Array(32).fill(4), 'abc');

describe('parseXMatrix', () => {
  it('reads the spec form and the RFC 9110 variations', () => {
    const base = { origin: 'origin.hs.example.com', destination: 'destination.hs.example.com', key: 'ed25519:key1', sig: 'ABCDEF' };
    expect(parseXMatrix('X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF"')).toEqual(base);
    // Names are case-insensitive, order does not matter, whitespace around commas, unquoted tokens (colons allowed).
    expect(parseXMatrix('x-matrix   SIG=ABCDEF ,\tKey=ed25519:key1, Origin=origin.hs.example.com , destination="destination.hs.example.com"')).toEqual(base);
    // Backslash escapes in quoted values; unknown parameters ignored; destination optional.
    expect(parseXMatrix('X-Matrix origin="o\\"x",key="ed25519:a",sig="s",extra="1"')).toEqual({ origin: 'o"x', key: 'ed25519:a', sig: 's' });
  });

  it.each([
    ['Bearer abc'], ['X-Matrix'], ['X-Matrix origin="a"'], ['X-Matrix origin="a",key="k"'], ['X-Matrix origin="a,key="k",sig="s"'],
    ['X-Matrix origin=a b,key=k,sig=s'], ['X-Matrix =x,origin=a,key=k,sig=s'], ['X-Matrix origin="",key="k",sig="s"'],
  ])('refuses %j', (h) => {
    expect(() => parseXMatrix(h)).toThrow(FederationHttpError);
  });

  it('never throws anything but FederationHttpError (fuzz)', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try { parseXMatrix(`X-Matrix ${s}`); } catch (e) { return e instanceof FederationHttpError; }
      return true;
    }));
  });
});

describe('signRequest / verifyRequest', () => {
  const req = { method: 'PUT', uri: '/_matrix/federation/v1/send/1?x=%21', origin: 'a.example', destination: 'b.example:8448', content: { pdus: [], n: 1 } };

  it('a signed request verifies; any change to method, target, destination, body or origin fails', () => {
    const p = parseXMatrix(signRequest(req, key));
    expect(p).toMatchObject({ origin: 'a.example', destination: 'b.example:8448', key: 'ed25519:abc' });
    const check = (r: Partial<typeof req>, params = p) => verifyRequest(params, { method: req.method, uri: req.uri, destination: req.destination, content: req.content, ...r }, key.publicKey);
    expect(check({})).toBe(true);
    expect(check({ method: 'POST' })).toBe(false);
    expect(check({ uri: '/_matrix/federation/v1/send/2' })).toBe(false);
    expect(check({ content: { pdus: [], n: 2 } })).toBe(false);
    expect(check({ destination: 'c.example' }, { ...p, destination: 'c.example' })).toBe(false);
    expect(check({}, { ...p, origin: 'evil.example' })).toBe(false);
    expect(verifyRequest(p, { method: 'PUT', uri: req.uri, destination: req.destination }, key.publicKey)).toBe(false);
  });

  it('without a destination parameter the receiving server\'s own name is what was signed (older servers)', () => {
    const { destination: _d, ...p } = parseXMatrix(signRequest(req, key));
    expect(verifyRequest(p, { method: req.method, uri: req.uri, destination: req.destination, content: req.content }, key.publicKey)).toBe(true);
  });

  it('any key-order of the body verifies the same (canonical JSON)', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.integer()), (content) => {
      const h = parseXMatrix(signRequest({ ...req, content }, key));
      const reordered = Object.fromEntries(Object.entries(content).reverse());
      return verifyRequest(h, { method: req.method, uri: req.uri, destination: req.destination, content: reordered }, key.publicKey);
    }), { numRuns: 50 });
  });
});

/** Test helpers: certificates made here (a CA and a leaf for 127.0.0.1), free ports, raw HTTPS requests. */
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { generate } from 'selfsigned';

/** A test CA and a leaf certificate it signed for `localhost` and `127.0.0.1`. */
export interface TestCerts {
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  /** A self-signed certificate nobody trusts (for verification failures). */
  readonly untrustedCert: string;
  readonly untrustedKey: string;
}

let certs: Promise<TestCerts> | undefined;

/** Makes (once per test file) a CA, a leaf signed by it and an untrusted self-signed certificate. */
export function testCerts(): Promise<TestCerts> {
  certs ??= (async () => {
    const ext = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };
    const ca = await generate([{ name: 'commonName', value: 'roomgraph test CA' }], {
      ...ext, extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true }],
    });
    const san = { name: 'subjectAltName' as const, altNames: [{ type: 2 as const, value: 'localhost' }, { type: 7 as const, ip: '127.0.0.1' }] };
    const leaf = await generate([{ name: 'commonName', value: 'localhost' }], { ...ext, ca: { key: ca.private, cert: ca.cert }, extensions: [san] });
    const other = await generate([{ name: 'commonName', value: 'localhost' }], { ...ext, extensions: [san] });
    return { caCert: ca.cert, cert: leaf.cert, key: leaf.private, untrustedCert: other.cert, untrustedKey: other.private };
  })();
  return certs;
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A raw HTTPS request (no verification): status and parsed JSON body. */
export function rawRequest(
  port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer,
): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try { json = JSON.parse(text) as Record<string, unknown>; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body); else req.end();
  });
}

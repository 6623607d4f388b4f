/**
 * Runs `roomgraph serve` processes for tests: certificates made here (a CA and a leaf for
 * 127.0.0.1), one process per server name on a free port, commands written to stdin and their
 * result lines read back in order.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';

const BIN = fileURLToPath(new URL('../bin/roomgraph.mjs', import.meta.url));

/** Files of a test CA and of a certificate it signed for 127.0.0.1 / localhost. */
export interface CertFiles { readonly dir: string; readonly ca: string; readonly cert: string; readonly key: string; readonly caPem: string; readonly certPem: string; readonly keyPem: string }

/** Makes the CA and the certificate in a new temporary directory. */
export async function makeCerts(): Promise<CertFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-serve-certs-'));
  const ext = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: 'roomgraph test CA' }], {
    ...ext, extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true }],
  });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...ext, ca: { key: ca.private, cert: ca.cert }, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const files = { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), caPem: ca.cert, certPem: leaf.cert, keyPem: leaf.private };
  writeFileSync(files.ca, ca.cert);
  writeFileSync(files.cert, leaf.cert);
  writeFileSync(files.key, leaf.private);
  return files;
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

/** Where a node keeps its state across restarts. */
export interface NodeHome { readonly name: string; readonly port: number; readonly dir: string }

/** A new home (port, store directory, key file) for a node. */
export async function newHome(): Promise<NodeHome> {
  const port = await freePort();
  return { name: `127.0.0.1:${port}`, port, dir: mkdtempSync(join(tmpdir(), 'rg-serve-')) };
}

type Json = Record<string, unknown>;

/** One running `roomgraph serve` process. */
export class ServeProcess {
  readonly home: NodeHome;
  readonly stderr: string[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: Array<(line: string) => void> = [];
  readonly #lines: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(home: NodeHome, child: ChildProcessWithoutNullStreams) {
    this.home = home;
    this.#child = child;
    createInterface({ input: child.stdout }).on('line', (l) => {
      const w = this.#waiting.shift();
      if (w !== undefined) w(l); else this.#lines.push(l);
    });
    createInterface({ input: child.stderr }).on('line', (l) => { this.stderr.push(l); });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts a node and waits until it listens. */
  static async start(home: NodeHome, certs: CertFiles, extra: readonly string[] = []): Promise<ServeProcess> {
    const child = spawn(process.execPath, [
      BIN, 'serve', '--server-name', home.name, '--listen', `127.0.0.1:${home.port}`, '--tls-cert', certs.cert, '--tls-key', certs.key,
      '--tls-ca', certs.ca, '--signing-key', join(home.dir, 'signing.key'), '--store', join(home.dir, 'store'), ...extra,
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new ServeProcess(home, child);
    await new Promise<void>((resolve, reject) => {
      const check = (l: string): void => { if (l.includes('listening on')) { child.stderr.off('data', onData); resolve(); } };
      const onData = (d: Buffer): void => { for (const l of d.toString().split('\n')) check(l); };
      child.stderr.on('data', onData);
      void p.exited.then((code) => reject(new Error(`serve exited (${String(code)}) before listening: ${p.stderr.join('\n')}`)));
    });
    return p;
  }

  /** Sends one command and resolves to its result line, parsed. */
  cmd(command: Json): Promise<Json> {
    return this.raw(JSON.stringify(command)).then((l) => JSON.parse(l) as Json);
  }

  /** Sends one raw line and resolves to the result line. */
  raw(line: string): Promise<string> {
    const p = new Promise<string>((resolve) => {
      const ready = this.#lines.shift();
      if (ready !== undefined) resolve(ready); else this.#waiting.push(resolve);
    });
    this.#child.stdin.write(`${line}\n`);
    return p;
  }

  /** Sends a command that must succeed; throws with the error object otherwise. */
  async ok(command: Json): Promise<Json> {
    const r = await this.cmd(command);
    if (r['error'] !== undefined) throw new Error(`${String(command['op'])} on ${this.home.name}: ${JSON.stringify(r['error'])}`);
    return r;
  }

  /** Ends stdin and waits for a clean exit; resolves to the exit code. */
  async stop(): Promise<number | null> {
    this.#child.stdin.end();
    return this.exited;
  }

  /** Sends a signal and waits for the exit. */
  async signal(sig: NodeJS.Signals): Promise<number | null> {
    this.#child.kill(sig);
    return this.exited;
  }
}

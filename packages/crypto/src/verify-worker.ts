/**
 * Batched ed25519 verification on a worker thread (RFC 8032 verification by node:crypto, as in
 * {@link nodeBackend}'s `verify`; no spec algorithm of its own).
 *
 * node:crypto's asynchronous `verify` runs one libuv job per signature, and submitting a job plus
 * receiving its completion costs the calling thread some 30 µs — a third of the verification it
 * moves away. Here the signatures handed over travel to one worker thread in transferred buffers,
 * are verified there synchronously, and come back every {@link PART} signatures (so the first
 * answers of a batch arrive after a few verifications, not after all of them, and the calling
 * thread works on them while the worker does the rest): a few µs per signature on the calling
 * thread. When to send: at once while the worker has fewer than {@link LOW_WATER} jobs left
 * (it would soon wait for work — it counts the jobs it has done in a shared counter, read here
 * without waiting for its answers), else once {@link BATCH} jobs are queued, or at the next turn of
 * the event loop for the rest. The worker is started on first use, holds the process open only
 * while jobs are pending, and caches public KeyObjects. If it cannot start or fails, the pending
 * jobs and every later one are verified by the fallback given (the libuv path): same answers.
 *
 * @module
 */
import { Worker } from 'node:worker_threads';

/** Jobs per message to the worker once it has work: a burst of look-ahead checks goes out in blocks of this size. */
export const BATCH = 16;

/**
 * Jobs are sent at once, not held for a batch, while the worker has fewer than this many left
 * (about half a millisecond of work at ~70 µs a verification: a batch being filled here would
 * otherwise leave it idle).
 */
export const LOW_WATER = 8;

/** The worker answers every this many verifications of a batch (see the module documentation; at most 31: an answer is a bit per job in a number). */
export const PART = 4;

/**
 * Once the worker has this many jobs queued (sent or held), a new job is verified on the calling
 * thread instead, at once: the worker has ~0.7 ms of work in hand (as much as {@link LOW_WATER}
 * keeps it fed with), so the calling thread — which would otherwise wait for its answers — takes
 * the surplus, and both cores verify. (Measured against 12, 16, 24 and 48 in the engine's batch
 * mode: benchmarks/issue-11.md.)
 */
export const HELP_BEYOND = 8;

/**
 * The worker's code (CommonJS, evaluated): for each job of a packed buffer — 32-byte public key,
 * 64-byte signature, u32 LE message length, message — whether `crypto.verify` accepts it.
 */
const WORKER_CODE = `
const PART = ${PART};
const { parentPort, workerData } = require('node:worker_threads');
// Jobs done, for the sender's flushing decisions (see LOW_WATER): read there without a message.
const done = new Int32Array(workerData.done);
const crypto = require('node:crypto');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
parentPort.on('message', (m) => {
  const buf = Buffer.from(m.buf);
  // Answers as a bit per job in a number (a plain message costs the worker about half what a
  // transferred array does).
  let bits = 0;
  let from = 0;
  let o = 0;
  for (let i = 0; i < m.n; i++) {
    const pk = buf.subarray(o, o + 32);
    const sig = buf.subarray(o + 32, o + 96);
    const len = buf.readUInt32LE(o + 96);
    const msg = buf.subarray(o + 100, o + 100 + len);
    o += 100 + len;
    let ok = false;
    try {
      const k = pk.toString('latin1');
      let key = keys.get(k);
      if (key === undefined) {
        if (keys.size >= 4096) keys.clear();
        key = crypto.createPublicKey({ key: Buffer.concat([SPKI, pk]), format: 'der', type: 'spki' });
        keys.set(k, key);
      }
      ok = crypto.verify(null, msg, key, sig);
    } catch {
      ok = false;
    }
    Atomics.add(done, 0, 1);
    if (ok) bits |= 1 << (i - from);
    if (i - from + 1 === PART || i + 1 === m.n) {
      parentPort.postMessage({ id: m.id, from, n: i - from + 1, bits });
      bits = 0;
      from = i + 1;
    }
  }
});
`;

interface Job {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly resolve: (ok: boolean) => void;
}

/** A verification the worker cannot do is done by this (same answer, other thread or this one). */
export type VerifyFallback = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => Promise<boolean>;

/** A verification on the calling thread (same answer as the worker's), for the surplus beyond {@link HELP_BEYOND}. */
export type VerifyHere = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** One worker thread verifying batches of signatures (see the module documentation). */
export class VerifyWorker {
  readonly #fallback: VerifyFallback;
  readonly #here: VerifyHere | undefined;
  #worker: Worker | undefined;
  /** Set once the worker could not start or failed: every job goes to the fallback. */
  #broken = false;
  #queue: Job[] = [];
  #scheduled = false;
  /** Jobs sent to the worker (all time) and, shared with it, jobs it has done: the difference is its backlog. */
  #sent = 0;
  readonly #done = new Int32Array(new SharedArrayBuffer(4));
  /** Batches sent, by message ID: their jobs and how many of them are answered (in order). */
  readonly #pending = new Map<number, { readonly jobs: readonly Job[]; done: number }>();
  #nextId = 0;

  /**
   * @param fallback - verifies what the worker cannot (it could not start, or failed).
   * @param here - when given, verifies on the calling thread the jobs beyond {@link HELP_BEYOND}
   *   queued for the worker.
   */
  constructor(fallback: VerifyFallback, here?: VerifyHere) {
    this.#fallback = fallback;
    this.#here = here;
  }

  /** Verifies one signature (lengths already checked by the caller); never rejects. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.#broken) return this.#fallback(publicKey, message, signature);
    if (this.#here !== undefined && this.#backlog() + this.#queue.length >= HELP_BEYOND) {
      this.helped++;
      return Promise.resolve(this.#here(publicKey, message, signature));
    }
    return new Promise<boolean>((resolve) => {
      this.#queue.push({ publicKey, message, signature, resolve });
      if (this.#queue.length >= BATCH || this.#backlog() < LOW_WATER) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Jobs verified on the calling thread (beyond {@link HELP_BEYOND}), all time. */
  helped = 0;

  /** Jobs held here for a batch, not sent to the worker yet. */
  get held(): number {
    return this.#queue.length;
  }

  /**
   * Stops the worker thread: the jobs it has not answered, and every later one, are verified by
   * the fallback (as after a failure of the worker).
   */
  async terminate(): Promise<void> {
    const w = this.#worker;
    if (w === undefined) {
      this.#broken = true;
      return;
    }
    await w.terminate().catch(() => undefined);
    this.#fail();
  }

  /** Jobs sent that the worker has not done yet. (Both counters wrap at 2^32: their difference modulo 2^32.) */
  #backlog(): number {
    return (this.#sent - Atomics.load(this.#done, 0)) | 0;
  }

  #start(): Worker | undefined {
    if (this.#worker !== undefined || this.#broken) return this.#worker;
    try {
      const w = new Worker(WORKER_CODE, { eval: true, workerData: { done: this.#done.buffer } });
      w.on('message', (m: { id: number; from: number; n: number; bits: number }) => this.#settle(m.id, m.from, m.n, m.bits));
      w.on('error', () => this.#fail());
      w.on('exit', () => this.#fail());
      w.unref();
      this.#worker = w;
    } catch {
      this.#broken = true;
    }
    return this.#worker;
  }

  #flush(): void {
    this.#scheduled = false;
    const jobs = this.#queue;
    if (jobs.length === 0) return;
    this.#queue = [];
    const w = this.#start();
    if (w === undefined) {
      this.#toFallback(jobs);
      return;
    }
    let size = 0;
    for (const j of jobs) size += 100 + j.message.length;
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    let o = 0;
    for (const j of jobs) {
      buf.set(j.publicKey, o);
      buf.set(j.signature, o + 32);
      view.setUint32(o + 96, j.message.length, true);
      buf.set(j.message, o + 100);
      o += 100 + j.message.length;
    }
    const id = this.#nextId++;
    this.#pending.set(id, { jobs, done: 0 });
    if (this.#pending.size === 1) w.ref();
    this.#sent = (this.#sent + jobs.length) | 0;
    try {
      w.postMessage({ id, n: jobs.length, buf: buf.buffer }, [buf.buffer]);
    } catch {
      this.#fail();
    }
  }

  /** Answers for `n` jobs of batch `id` from index `from` on: bit `k` of `bits` set when job `from + k` verified. */
  #settle(id: number, from: number, n: number, bits: number): void {
    const batch = this.#pending.get(id);
    if (batch === undefined || from !== batch.done) return;
    const { jobs } = batch;
    const end = Math.min(jobs.length, from + n);
    batch.done = end;
    if (end === jobs.length) {
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#worker?.unref();
    }
    for (let i = from; i < end; i++) (jobs[i] as Job).resolve(((bits >>> (i - from)) & 1) === 1);
  }

  /** The worker failed or exited: its pending jobs, and all later ones, go to the fallback. */
  #fail(): void {
    if (this.#broken) return;
    this.#broken = true;
    const w = this.#worker;
    this.#worker = undefined;
    const lost = [...this.#pending.values()].flatMap((b) => b.jobs.slice(b.done));
    this.#pending.clear();
    this.#toFallback(lost);
    if (w !== undefined) void w.terminate().catch(() => undefined);
  }

  #toFallback(jobs: readonly Job[]): void {
    for (const j of jobs) void this.#fallback(j.publicKey, j.message, j.signature).then(j.resolve, () => j.resolve(false));
  }
}

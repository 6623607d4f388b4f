/**
 * The durable outbound transaction queue (Server-Server API › Transactions): per destination, PDUs
 * wait in order and go out in `PUT /send` transactions of at most 50, one transaction in flight
 * per destination, retried with exponential back-off (the same transaction ID on each retry). A
 * destination that comes back after failures with a long backlog gets only the newest events of
 * each room (catch-up, as Synapse does): its receipt checks fetch the gap with
 * `get_missing_events`. Every queued PDU is journalled to a file (appended and fsynced before
 * `enqueue` resolves; compacted on open), so the queue survives a restart or a crash.
 *
 * @module
 */
import { mkdirSync, openSync, closeSync, fsyncSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JsonObject } from '@roomgraph/canonical-json';
import { TransportError } from '@roomgraph/transport';
import { FederationHttpError } from './errors.js';

/** Per-PDU results of one transaction. */
export type TransactionResult = Readonly<Record<string, { readonly error?: string }>>;

/** Options of {@link TransactionQueue}. */
export interface QueueOptions {
  /** The journal file (created with its directory if missing). */
  readonly file: string;
  /** Sends one transaction. */
  readonly send: (destination: string, txnId: string, pdus: readonly JsonObject[]) => Promise<TransactionResult>;
  /** First retry delay after a failure (default 1 s), doubled per consecutive failure. */
  readonly initialBackoffMs?: number;
  /** Longest retry delay (default 10 min). */
  readonly maxBackoffMs?: number;
  /** Backlog above which a destination back from failures gets only the newest events of each room (default 50). */
  readonly catchUpThreshold?: number;
  /** Clock (ms). */
  readonly now?: () => number;
  /** Log sink. */
  readonly log?: (line: string) => void;
}

interface Entry { readonly seq: number; readonly pdu: JsonObject }
interface Destination {
  readonly pending: Entry[];
  inFlight: boolean;
  failures: number;
  retryAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  txnId: string | undefined;
  txnSeqs: readonly number[] | undefined;
}

type JournalRecord =
  | { readonly a: 'q'; readonly s: number; readonly ds: readonly string[]; readonly p: JsonObject }
  | { readonly a: 'd'; readonly d: string; readonly s: readonly number[] };

/** Per-destination durable queue of outgoing PDUs. */
export class TransactionQueue {
  readonly #o: Required<Omit<QueueOptions, 'log' | 'now'>> & { log: (l: string) => void; now: () => number };
  readonly #dest = new Map<string, Destination>();
  #seq = 0;
  #fh: FileHandle | undefined;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;
  #opened = false;
  #txnCounter = 0;
  readonly #txnPrefix = `q${Date.now().toString(36)}`;
  readonly #idle = new Set<() => void>();
  #delivered = 0;

  constructor(options: QueueOptions) {
    this.#o = {
      file: options.file, send: options.send,
      initialBackoffMs: options.initialBackoffMs ?? 1000, maxBackoffMs: options.maxBackoffMs ?? 600_000,
      catchUpThreshold: options.catchUpThreshold ?? 50,
      now: options.now ?? Date.now, log: options.log ?? (() => undefined),
    };
  }

  /** Reads the journal (a torn last line is ignored), compacts it to the pending entries and resumes delivery. */
  async open(): Promise<void> {
    if (this.#opened) return;
    this.#opened = true;
    const file = this.#o.file;
    mkdirSync(dirname(file), { recursive: true });
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FederationHttpError('FED_QUEUE_IO', `cannot read queue ${file}: ${(e as Error).message}`);
    }
    const pdus = new Map<number, JsonObject>();
    const pendingBy = new Map<string, number[]>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let r: JournalRecord;
      try { r = JSON.parse(line) as JournalRecord; } catch { continue; }
      if (r.a === 'q' && typeof r.s === 'number' && Array.isArray(r.ds)) {
        pdus.set(r.s, r.p);
        this.#seq = Math.max(this.#seq, r.s);
        for (const d of r.ds) { const l = pendingBy.get(d) ?? []; l.push(r.s); pendingBy.set(d, l); }
      } else if (r.a === 'd' && typeof r.d === 'string' && Array.isArray(r.s)) {
        const done = new Set(r.s);
        const l = pendingBy.get(r.d);
        if (l !== undefined) pendingBy.set(r.d, l.filter((x) => !done.has(x)));
      }
    }
    // Compact: one record per pending PDU, written to a new file and renamed over the old one.
    const lines: string[] = [];
    const dests = new Map<number, string[]>();
    for (const [d, seqs] of pendingBy) for (const s of seqs) { const l = dests.get(s) ?? []; l.push(d); dests.set(s, l); }
    for (const [s, ds] of [...dests].sort((a, b) => a[0] - b[0])) lines.push(JSON.stringify({ a: 'q', s, ds, p: pdus.get(s) }));
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    const fd = openSync(tmp, 'r+'); fsyncSync(fd); closeSync(fd);
    renameSync(tmp, file);
    try { const dfd = openSync(dirname(file), 'r'); fsyncSync(dfd); closeSync(dfd); } catch { /* directory fsync unsupported */ }
    this.#fh = await openFile(file, 'a');
    for (const [d, seqs] of pendingBy) {
      const st = this.#state(d);
      for (const s of seqs) { const p = pdus.get(s); if (p !== undefined) st.pending.push({ seq: s, pdu: p }); }
      if (st.pending.length > 0) {
        // Unknown whether the destination was reachable before the restart: catch up if the backlog is long.
        st.failures = st.pending.length > this.#o.catchUpThreshold ? 1 : 0;
        this.#kick(d);
      }
    }
  }

  #state(d: string): Destination {
    let st = this.#dest.get(d);
    if (st === undefined) {
      st = { pending: [], inFlight: false, failures: 0, retryAt: 0, timer: undefined, txnId: undefined, txnSeqs: undefined };
      this.#dest.set(d, st);
    }
    return st;
  }

  async #append(records: readonly JournalRecord[]): Promise<void> {
    const fh = this.#fh;
    if (fh === undefined) throw new FederationHttpError('FED_QUEUE_IO', 'the queue is not open');
    const data = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const write = this.#writes.then(async () => { await fh.appendFile(data); await fh.datasync(); });
    this.#writes = write.catch(() => undefined);
    try { await write; } catch (e) {
      throw new FederationHttpError('FED_QUEUE_IO', `cannot write queue ${this.#o.file}: ${(e as Error).message}`);
    }
  }

  /**
   * Queues `pdus` for every destination; resolves once they are journalled (durable). Delivery
   * happens in the background.
   * @throws {@link FederationHttpError} `FED_QUEUE_IO` when the journal cannot be written.
   */
  async enqueue(destinations: readonly string[], pdus: readonly JsonObject[]): Promise<void> {
    if (this.#closed) throw new FederationHttpError('FED_QUEUE_IO', 'the queue is closed');
    if (!this.#opened) await this.open();
    const ds = [...new Set(destinations)];
    if (ds.length === 0 || pdus.length === 0) return;
    const entries = pdus.map((p) => ({ seq: ++this.#seq, pdu: p }));
    await this.#append(entries.map((e) => ({ a: 'q', s: e.seq, ds, p: e.pdu })));
    for (const d of ds) {
      this.#state(d).pending.push(...entries);
      this.#kick(d);
    }
  }

  /** PDUs waiting for `destination` (in flight included). */
  pending(destination: string): number {
    return this.#dest.get(destination)?.pending.length ?? 0;
  }

  /** Transactions delivered since this queue was opened. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Destinations with PDUs waiting. */
  destinations(): string[] {
    return [...this.#dest].filter(([, s]) => s.pending.length > 0).map(([d]) => d);
  }

  /**
   * Tells the queue that `destination` is reachable again (e.g. it just sent us a request): its
   * back-off is cut short and delivery resumes now.
   */
  wake(destination: string): void {
    const st = this.#dest.get(destination);
    if (st === undefined || st.pending.length === 0 || st.inFlight) return;
    st.retryAt = 0;
    if (st.timer !== undefined) { clearTimeout(st.timer); st.timer = undefined; }
    this.#kick(destination);
  }

  /** Resolves when no PDU is waiting for any destination (or the queue closes). */
  idle(): Promise<void> {
    if (this.#closed || this.destinations().length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #checkIdle(): void {
    if (this.destinations().length > 0 && !this.#closed) return;
    for (const r of this.#idle) r();
    this.#idle.clear();
  }

  #kick(d: string): void {
    const st = this.#state(d);
    if (this.#closed || st.inFlight || st.pending.length === 0 || st.timer !== undefined) return;
    const wait = st.retryAt - this.#o.now();
    if (wait > 0) {
      st.timer = setTimeout(() => { st.timer = undefined; this.#kick(d); }, wait);
      st.timer.unref?.();
      return;
    }
    st.inFlight = true;
    void this.#deliver(d, st).finally(() => {
      st.inFlight = false;
      if (st.pending.length > 0) this.#kick(d);
      else this.#checkIdle();
    });
  }

  /**
   * Catch-up: keeps, per room, the pending PDUs of the greatest depth (the newest events); the
   * destination fetches the older ones itself with get_missing_events when it receives them.
   */
  async #catchUp(d: string, st: Destination): Promise<void> {
    const newest = new Map<string, number>();
    const room = (e: Entry): string => (typeof e.pdu['room_id'] === 'string' ? e.pdu['room_id'] : '');
    const depth = (e: Entry): number => (typeof e.pdu['depth'] === 'number' ? e.pdu['depth'] : 0);
    for (const e of st.pending) newest.set(room(e), Math.max(newest.get(room(e)) ?? -Infinity, depth(e)));
    const keep = st.pending.filter((e) => depth(e) === newest.get(room(e))).slice(-this.#o.catchUpThreshold);
    const kept = new Set(keep);
    const dropped = st.pending.filter((e) => !kept.has(e)).map((e) => e.seq);
    if (dropped.length === 0) return;
    await this.#append([{ a: 'd', d, s: dropped }]);
    st.pending.splice(0, st.pending.length, ...keep);
    st.txnId = undefined; st.txnSeqs = undefined;
    this.#o.log(`queue: ${d} is back with a backlog; sending the newest ${keep.length} event(s), it fetches the other ${dropped.length} with get_missing_events`);
  }

  async #deliver(d: string, st: Destination): Promise<void> {
    try {
      if (st.failures > 0 && st.pending.length > this.#o.catchUpThreshold) await this.#catchUp(d, st);
      const batch = st.pending.slice(0, 50);
      const seqs = batch.map((e) => e.seq);
      // A retry of the same PDUs reuses the transaction ID (the receiver answers it from its first result).
      if (st.txnId === undefined || st.txnSeqs === undefined || st.txnSeqs.length !== seqs.length || st.txnSeqs.some((s, i) => s !== seqs[i])) {
        st.txnId = `${this.#txnPrefix}.${(++this.#txnCounter).toString(36)}`;
        st.txnSeqs = seqs;
      }
      let drop = false;
      try {
        const result = await this.#o.send(d, st.txnId, batch.map((e) => e.pdu));
        const errors = Object.entries(result).filter(([, r]) => r.error !== undefined);
        if (errors.length > 0) this.#o.log(`queue: ${d} refused ${errors.length} PDU(s): ${errors.slice(0, 3).map(([id, r]) => `${id}: ${r.error ?? ''}`).join('; ')}`);
      } catch (e) {
        const permanent = e instanceof TransportError && (e.code === 'TRANSPORT_REJECTED' || e.code === 'TRANSPORT_BAD_RESPONSE');
        if (!permanent) {
          st.failures++;
          st.retryAt = this.#o.now() + Math.min(this.#o.initialBackoffMs * 2 ** Math.min(st.failures - 1, 30), this.#o.maxBackoffMs);
          this.#o.log(`queue: ${d} unreachable (${st.failures} failure(s)), retrying in ${st.retryAt - this.#o.now()} ms: ${(e as Error).message}`);
          return;
        }
        // The destination answered but refused the transaction: retrying would not help.
        this.#o.log(`queue: ${d} refused a transaction of ${batch.length} PDU(s), dropped: ${(e as Error).message}`);
        drop = true;
      }
      await this.#append([{ a: 'd', d, s: seqs }]);
      const done = new Set(seqs);
      const rest = st.pending.filter((e) => !done.has(e.seq));
      st.pending.splice(0, st.pending.length, ...rest);
      st.txnId = undefined; st.txnSeqs = undefined;
      st.failures = 0; st.retryAt = 0;
      if (!drop) this.#delivered++;
    } catch (e) {
      // Journal failure: keep everything pending and retry later.
      st.failures++;
      st.retryAt = this.#o.now() + Math.min(this.#o.initialBackoffMs * 2 ** Math.min(st.failures - 1, 30), this.#o.maxBackoffMs);
      this.#o.log(`queue: ${(e as Error).message}`);
    }
  }

  /** Stops delivery (timers cleared; an in-flight transaction finishes) and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const st of this.#dest.values()) if (st.timer !== undefined) { clearTimeout(st.timer); st.timer = undefined; }
    await this.#writes;
    await this.#fh?.close();
    this.#fh = undefined;
    this.#checkIdle();
  }
}

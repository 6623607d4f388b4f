/**
 * CLI targets: one child process per command, fed one big stream of hostile lines in `--jsonl`
 * mode. Checked: exactly one output line per input line, every error line typed (a known code,
 * never INTERNAL, never a stack trace), nothing on stderr, exit 0, no hang (a deadline), and the
 * child's peak RSS under a bound.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CODE, type Finding, type TargetStats, STACK, bump, showInput } from './findings.js';

const CHILD = fileURLToPath(new URL('./cli-child.mjs', import.meta.url));

export interface CliRunOptions {
  readonly target: string;
  /** argv after the program name (the command and its flags; `--jsonl` is added). */
  readonly argv: readonly string[];
  /** The cases, each one input line (it may contain further LF bytes: they count as lines). */
  readonly cases: AsyncIterable<Uint8Array | AsyncIterable<Uint8Array>>;
  /** Deadline for the whole run (ms). */
  readonly timeoutMs: number;
  /** Largest acceptable peak RSS of the child (KiB). */
  readonly maxRssKb: number;
}

interface Pending { readonly first: number; readonly count: number; readonly input: Uint8Array | string }

function countLf(b: Uint8Array): number {
  let n = 0;
  let i = -1;
  while ((i = b.indexOf(0x0a, i + 1)) >= 0) n++;
  return n;
}

/** Runs one command over its stream of cases. */
export async function runCli(o: CliRunOptions, findings: Finding[]): Promise<TargetStats> {
  const t0 = performance.now();
  const stats: TargetStats = { cases: 0, ms: 0, codes: {} };
  const child = spawn(process.execPath, [CHILD, ...o.argv, '--jsonl'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  const find = (kind: string, detail: string, input?: Uint8Array | string): void => {
    if (findings.filter((f) => f.target === o.target).length < 50) findings.push({ target: o.target, kind, detail, ...(input !== undefined ? { input: showInput(input) } : {}) });
  };
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { if (stderr.length < 10_000) stderr += d.toString(); });
  let rssReport = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { rssReport += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutMs);

  // Output side: validate each line as it arrives; map it back to its case.
  const pending: Pending[] = [];
  let outLines = 0;
  let partial = '';
  const check = (line: string): void => {
    outLines++;
    while (pending.length > 0 && (pending[0] as Pending).first + (pending[0] as Pending).count <= outLines) pending.shift();
    const input = pending[0]?.input;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      find('output-not-json', line.slice(0, 300), input);
      return;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'error' in v) {
      const e = (v as { error: { code?: unknown; message?: unknown } }).error;
      const code = typeof e?.code === 'string' ? e.code : '';
      bump(stats.codes, code);
      if (!CODE.test(code)) find('untyped-error', line.slice(0, 300), input);
      else if (code === 'INTERNAL') find('internal-error', line.slice(0, 300), input);
      if (typeof e?.message !== 'string') find('error-without-message', line.slice(0, 300), input);
      else if (STACK.test(e.message)) find('stack-trace', e.message.slice(0, 500), input);
    } else {
      bump(stats.codes, 'ok');
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      check(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
  });

  // Input side: write with backpressure; count the lines the CLI will see (LF bytes).
  let inLines = 0;
  const write = (b: Uint8Array): Promise<void> => new Promise((resolve) => {
    if (child.stdin.write(b)) resolve();
    else child.stdin.once('drain', resolve);
  });
  child.stdin.on('error', () => undefined);
  try {
    for await (const c of o.cases) {
      if (timedOut) break;
      stats.cases++;
      if (c instanceof Uint8Array) {
        const n = countLf(c) + 1;
        pending.push({ first: inLines, count: n, input: c });
        inLines += n;
        await write(c);
        await write(Buffer.from('\n'));
      } else {
        // A streamed (oversize) line: written chunk by chunk, never held whole.
        let size = 0;
        let lf = 0;
        for await (const chunk of c) {
          size += chunk.length;
          lf += countLf(chunk);
          await write(chunk);
        }
        pending.push({ first: inLines, count: lf + 1, input: `<streamed line of ${size} bytes>` });
        inLines += lf + 1;
        await write(Buffer.from('\n'));
      }
    }
  } finally {
    child.stdin.end();
  }
  const code = await exited;
  clearTimeout(timer);
  if (partial !== '') check(partial);
  stats.ms = performance.now() - t0;
  if (timedOut) find('hang', `no exit within ${o.timeoutMs} ms (${outLines} of ${inLines} lines answered)`);
  if (code !== 0 && !timedOut) find('exit-status', `exit ${String(code)}; stderr: ${stderr.slice(0, 500)}`);
  if (stderr !== '') find('stderr', stderr.slice(0, 500));
  if (outLines !== inLines && !timedOut) find('line-count', `${inLines} input lines, ${outLines} output lines`);
  try {
    stats.maxRssKb = (JSON.parse(rssReport) as { maxRssKb: number }).maxRssKb;
    if (stats.maxRssKb > o.maxRssKb) find('memory', `peak RSS ${Math.round(stats.maxRssKb / 1024)} MiB > ${Math.round(o.maxRssKb / 1024)} MiB`);
  } catch {
    if (!timedOut) find('no-rss-report', `the child reported no peak RSS (exit ${String(code)})`);
  }
  return stats;
}

/** A line of `size` bytes streamed in 64 KiB chunks: `{"a":"xxx…"}`. */
export async function* streamedLine(size: number): AsyncIterable<Uint8Array> {
  yield Buffer.from('{"a":"');
  const chunk = Buffer.alloc(65536, 0x78);
  let left = Math.max(0, size - 8);
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    yield chunk.subarray(0, n);
    left -= n;
  }
  yield Buffer.from('"}');
}

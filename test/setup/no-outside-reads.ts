/**
 * Test setup (every test file): the suite must be self-contained. A user who clones roomgraph has the
 * repository and nothing beside it, so any read of a path *beside* the repository (a sibling
 * folder, or any file under the repository's parent folder that is not in the
 * repository) throws {@link OutsideRepositoryRead} instead of quietly succeeding on a developer's
 * machine.
 *
 * Node's `fs` functions are wrapped and `syncBuiltinESMExports()` makes `import { readFileSync }
 * from 'node:fs'` see the wrappers too. CI additionally runs the whole suite from a copy of the
 * repository with nothing beside it (`.ci/run`).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Thrown when a test reads a path beside the repository. */
export class OutsideRepositoryRead extends Error {
  /** Stable code. */
  readonly code = 'OUTSIDE_REPOSITORY_READ';
  constructor(readonly path: string) {
    super(`the test suite read ${path}, which is outside the repository: copy what tests need into test/fixtures/`);
    this.name = 'OutsideRepositoryRead';
  }
}

const root = fs.realpathSync(fileURLToPath(new URL('../..', import.meta.url)));
const parent = dirname(root);
const under = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * What sits beside the repository: the entries of its parent folder when the suite started (other
 * than the repository itself). Reading under any of them throws. Folders made later (a test's
 * temporary folder, when the clone sits directly in /tmp) are not beside the repository in this
 * sense, so a clone anywhere passes the same way.
 */
export const layout: { readonly root: string; readonly parent: string; readonly siblings: Set<string> } = {
  root,
  parent,
  siblings: new Set(safeList(parent).filter((name) => join(parent, name) !== root)),
};

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Whether absolute path `p` is beside the repository described by `l`. */
export function isBesideRepository(p: string, l: typeof layout): boolean {
  if (!under(p, l.parent) || under(p, l.root) || p === l.parent) return false;
  const first = relative(l.parent, p).split(sep)[0] ?? '';
  return l.siblings.has(first);
}

/** The absolute path a `fs` path argument names, or undefined for a file descriptor. */
function pathOf(arg: unknown): string | undefined {
  if (arg instanceof URL) return arg.protocol === 'file:' ? fileURLToPath(arg) : undefined;
  if (Buffer.isBuffer(arg)) return resolve(arg.toString('utf8'));
  if (typeof arg !== 'string') return undefined;
  return arg.startsWith('file:') ? fileURLToPath(arg) : resolve(arg);
}

/** Throws when `arg` names a path beside the repository. */
export function assertInsideRepository(arg: unknown): void {
  const p = pathOf(arg);
  if (p !== undefined && isBesideRepository(p, layout)) throw new OutsideRepositoryRead(p);
}

type AnyFn = (...args: unknown[]) => unknown;
function guard(target: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function' || (original as { __guarded?: true }).__guarded) continue;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      assertInsideRepository(args[0]);
      return (original as AnyFn).apply(this, args);
    };
    Object.defineProperty(wrapped, '__guarded', { value: true });
    target[name] = wrapped;
  }
}

guard(fs as unknown as Record<string, unknown>, [
  'readFileSync', 'readFile', 'openSync', 'open', 'createReadStream', 'readdirSync', 'readdir',
  'existsSync', 'statSync', 'stat', 'lstatSync', 'accessSync', 'access', 'opendirSync', 'cpSync',
  'copyFileSync',
]);
guard(fs.promises as unknown as Record<string, unknown>, ['readFile', 'open', 'readdir', 'stat', 'lstat', 'access', 'opendir', 'cp', 'copyFile']);
syncBuiltinESMExports();

// Module hooks for the soak child (a copy of store-level's crash-test hooks): run the workspace's TypeScript sources directly (Node 20
// has no type stripping). Resolution prefers the `source` export condition and maps relative
// `.js` specifiers to `.ts`; `.ts` files are transpiled (no type check) with the repo's TypeScript.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function resolve(specifier, context, next) {
  const ctx = { ...context, conditions: [...new Set(['source', ...(context.conditions ?? [])])] };
  try {
    return await next(specifier, ctx);
  } catch (e) {
    if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, ctx);
    throw e;
  }
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const fileName = fileURLToPath(url);
    const out = ts.transpileModule(await readFile(fileName, 'utf8'), {
      fileName,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, sourceMap: false },
    });
    return { format: 'module', source: out.outputText, shortCircuit: true };
  }
  return next(url, context);
}

/**
 * DOT to SVG with Graphviz compiled to WebAssembly (`@hpcc-js/wasm-graphviz`: the WASM module is
 * inlined in its JavaScript, so nothing is downloaded at install or run time and no Graphviz
 * installation is needed). Chosen over JS layout libraries (dagre, elkjs) on a 500-event room:
 * see the CLI README, "Pictures of the DAG".
 * @packageDocumentation
 */
import { Graphviz } from '@hpcc-js/wasm-graphviz';

/** Lays out a DOT document with Graphviz `dot` and returns the SVG text. */
export async function dotToSvg(dot: string): Promise<string> {
  const gv = await Graphviz.load();
  return gv.dot(dot, 'svg');
}

/** The Graphviz version inside the WASM build (for `--help` and diagnostics). */
export async function graphvizVersion(): Promise<string> {
  return (await Graphviz.load()).version();
}

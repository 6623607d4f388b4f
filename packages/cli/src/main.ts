/**
 * Entry point of the `roomgraph` command line.
 * @packageDocumentation
 */
/** Runs the command line with the given arguments; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  process.stdout.write(JSON.stringify({ argv }) + '\n');
  return 0;
}

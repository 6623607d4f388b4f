/**
 * The roomgraph command line: JSON commands over stdin/stdout, ingest, resolve, demo.
 * @packageDocumentation
 */
export {};

/**
 * In-memory implementation of the roomgraph store.
 * @packageDocumentation
 */
export {};

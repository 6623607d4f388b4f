/**
 * LevelDB implementation of the roomgraph store (the embedded default).
 * @packageDocumentation
 */
export {};

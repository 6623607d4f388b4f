/**
 * Storage interfaces for the room engine, the shared state-snapshot core, and an exported conformance suite.
 * @packageDocumentation
 */
export {};

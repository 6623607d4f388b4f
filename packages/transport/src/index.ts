/**
 * Transport and key-source interfaces, and an in-process network of simulated homeservers.
 * @packageDocumentation
 */
export {};

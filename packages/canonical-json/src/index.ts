/**
 * Canonical JSON per the Matrix spec: a strict encoder (code-point key order, integer range) and a strict parser for untrusted input.
 * @packageDocumentation
 */
export {};

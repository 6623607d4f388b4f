/**
 * Matrix state resolution v1, v2 and v2.1, with auth-chain caching and a chain cover index.
 * @packageDocumentation
 */
export {};

/**
 * The Matrix authorization rules for every room version, with a shared power-levels helper.
 * @packageDocumentation
 */
export {};

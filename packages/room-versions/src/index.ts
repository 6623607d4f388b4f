/**
 * Matrix room versions 1-12 as frozen rules objects (feature flags), with lookup and custom-version derivation.
 * @packageDocumentation
 */
export {};

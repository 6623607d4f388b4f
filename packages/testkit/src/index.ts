/**
 * fast-check arbitraries for valid Matrix room DAGs and ready-made state-resolution properties.
 * @packageDocumentation
 */
export {};

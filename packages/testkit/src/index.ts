/**
 * fast-check arbitraries for valid Matrix room DAGs and ready-made state-resolution properties:
 *
 * - {@link roomDag}: valid room DAGs for room versions 1–12, shrinking to small readable
 *   counterexamples ({@link describeDag});
 * - {@link checkOrderIndependence}, {@link checkIdempotence}, {@link checkUnconflictedPreserved},
 *   {@link checkResolvedStateIsAuthorised}, {@link checkAgreement}: properties for any
 *   {@link Resolver}, e.g. yours against {@link roomgraphResolver};
 * - {@link generateRoom}: large valid signed rooms (also `@roomgraph/testkit/room`, which does not
 *   load fast-check) — what the benchmarks and `roomgraph gen-room` use;
 * - {@link hostilePdu} and small arbitraries (users, power levels, join rules, memberships).
 *
 * @packageDocumentation
 */
export * from './dag.js';
export * from './properties.js';
export * from './arbitraries.js';
export * from './room.js';
export * from './resolve-input.js';

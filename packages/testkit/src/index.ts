/**
 * fast-check arbitraries for valid Matrix room DAGs and ready-made state-resolution properties:
 *
 * - {@link roomDag}: valid room DAGs for room versions 1–12, shrinking to small readable
 *   counterexamples ({@link describeDag});
 * - {@link checkOrderIndependence}, {@link checkIdempotence}, {@link checkUnconflictedPreserved},
 *   {@link checkResolvedStateIsAuthorised}, {@link checkAgreement}: properties for any
 *   {@link Resolver}, e.g. yours against {@link roomgraphResolver};
 * - {@link hostilePdu} and small arbitraries (users, power levels, join rules, memberships).
 *
 * @packageDocumentation
 */
export * from './dag.js';
export * from './properties.js';
export * from './arbitraries.js';

/**
 * The Matrix authorization rules for every room version (1–12), with a shared power-levels helper.
 *
 * - {@link checkAuth}: run every rule (checklist §f F1–F13) and get `{allowed}` or the rule code
 *   that rejected the event;
 * - {@link checkStateIndependentAuth} / {@link checkStateDependentAuth}: the two halves;
 * - {@link powerLevelsOf}: user / event / named power levels per room version.
 *
 * @packageDocumentation
 */
export {
  type AuthResult,
  type AuthOptions,
  checkAuth,
  checkStateIndependentAuth,
  checkStateDependentAuth,
} from './checkAuth.js';
export { AUTH_RULE_CODES, type AuthRuleCode } from './codes.js';
export {
  type PowerLevels,
  type NamedLevelKey,
  powerLevelsOf,
  parsePowerLevelValue,
  isValidPowerLevelValue,
  roomCreators,
  POWER_LEVEL_DEFAULTS,
  NAMED_LEVEL_KEYS,
  IMPLICIT_CREATOR_LEVEL,
} from './powerLevels.js';
export { verifyThirdPartySigned, isSignedByServer } from './signatures.js';
export { isUserId } from './userId.js';

/**
 * Which state resolution algorithm a room version uses (room versions › State resolution: v1 for
 * room version 1, v2 for 2–11, v2.1 for 12), as the `stateResolution.algorithm` flag says.
 *
 * @module
 */
import type { RoomVersionRules } from '@roomgraph/room-versions';
import { StateResolutionError } from './errors.js';
import type { ResolutionInput, ResolutionStep, StateDelta } from './run.js';
import { resolveV1Gen } from './v1.js';
import { resolveV2Gen } from './v2.js';

/** Picks the algorithm for a room version. */
export function algorithmFor(rules: RoomVersionRules): (input: ResolutionInput) => Generator<ResolutionStep, StateDelta, void> {
  switch (rules.stateResolution.algorithm) {
    case 'v1':
      return resolveV1Gen;
    case 'v2':
    case 'v2.1':
      return resolveV2Gen;
    default:
      throw new StateResolutionError('UNSUPPORTED_ALGORITHM', `unknown state resolution algorithm for room version ${rules.id}`);
  }
}

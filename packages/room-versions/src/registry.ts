/**
 * Looking room versions up by identifier, and registries that add custom versions.
 *
 * @module
 */
import type { RoomVersionId, RoomVersionRules } from './rules.js';
import { RoomVersionError } from './errors.js';
import { V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12 } from './versions.js';

/** Every room version the specification defines, by identifier. */
export const ROOM_VERSIONS: ReadonlyMap<RoomVersionId, RoomVersionRules> = new Map(
  [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12].map((r) => [r.id, r]),
);

/** The version servers should use for new rooms (rooms/_index.md: "Servers SHOULD use room version 12"). */
export const DEFAULT_ROOM_VERSION: RoomVersionId = '12';

/**
 * A set of room versions a server supports: the specified ones plus any custom versions registered
 * on this instance. Registries are independent; nothing is global.
 */
export class RoomVersionRegistry {
  readonly #versions: Map<RoomVersionId, RoomVersionRules>;

  /** Creates a registry holding the specified versions 1–12. */
  constructor() {
    this.#versions = new Map(ROOM_VERSIONS);
  }

  /**
   * The rules of room version `id`.
   * @throws {@link RoomVersionError} `ROOM_VERSION_UNKNOWN` for an identifier not in this registry.
   */
  get(id: string): RoomVersionRules {
    const r = typeof id === 'string' ? this.#versions.get(id) : undefined;
    if (r === undefined) throw new RoomVersionError('ROOM_VERSION_UNKNOWN', `unknown room version ${JSON.stringify(id)}`);
    return r;
  }

  /** Whether `id` is known to this registry. */
  has(id: string): boolean {
    return this.#versions.has(id);
  }

  /**
   * Adds a custom version (typically made with `deriveRoomVersion`).
   * @throws {@link RoomVersionError} `ROOM_VERSION_ALREADY_REGISTERED` if the identifier is taken.
   */
  register(rules: RoomVersionRules): void {
    if (this.#versions.has(rules.id)) {
      throw new RoomVersionError('ROOM_VERSION_ALREADY_REGISTERED', `room version ${JSON.stringify(rules.id)} is already registered`);
    }
    this.#versions.set(rules.id, Object.isFrozen(rules) ? rules : Object.freeze({ ...rules }));
  }

  /** All versions, in registration order (1–12 first). */
  list(): readonly RoomVersionRules[] {
    return [...this.#versions.values()];
  }
}

/**
 * The rules of a specified room version ("1" … "12").
 * @throws {@link RoomVersionError} `ROOM_VERSION_UNKNOWN` for any other identifier.
 * @example
 * ```ts
 * getRoomVersion('12').stateResolution.algorithm; // 'v2.1'
 * ```
 */
export function getRoomVersion(id: string): RoomVersionRules {
  const r = typeof id === 'string' ? ROOM_VERSIONS.get(id) : undefined;
  if (r === undefined) throw new RoomVersionError('ROOM_VERSION_UNKNOWN', `unknown room version ${JSON.stringify(id)}`);
  return r;
}

/** Whether `value` is a room version object (rather than an identifier). */
export function isRoomVersionRules(value: unknown): value is RoomVersionRules {
  return typeof value === 'object' && value !== null && 'authorization' in value && 'eventFormat' in value;
}

/** Accepts either an identifier or a rules object and returns the rules. */
export function resolveRoomVersion(version: string | RoomVersionRules): RoomVersionRules {
  return typeof version === 'string' ? getRoomVersion(version) : version;
}

/**
 * Renders every flag of the given versions as a Markdown table (rows = flags, columns = versions),
 * the full matrix that the docs publish and a test snapshots.
 */
export function renderRulesTable(versions: readonly RoomVersionRules[] = [...ROOM_VERSIONS.values()]): string {
  const rows: string[] = [];
  const first = versions[0];
  if (first === undefined) return '';
  const walk = (prefix: string, obj: object, pick: (r: RoomVersionRules) => unknown): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'id') continue;
      const path = prefix ? `${prefix}.${k}` : k;
      const get = (r: RoomVersionRules): unknown => (pick(r) as Record<string, unknown>)[k];
      if (v !== null && typeof v === 'object') walk(path, v, get);
      else {
        rows.push(`| ${path} | ${versions.map((r) => {
          const x = get(r);
          return x === true ? '✔' : x === false ? '' : String(x);
        }).join(' | ')} |`);
      }
    }
  };
  walk('', first, (r) => r);
  return [`| rule | ${versions.map((r) => r.id).join(' | ')} |`, `|---|${versions.map(() => '---').join('|')}|`, ...rows].join('\n');
}

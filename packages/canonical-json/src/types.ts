/**
 * The JSON value types shared by every roomgraph package.
 * @packageDocumentation
 */

/** Any JSON value that canonical JSON can represent (numbers are integers in strict mode). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/** A JSON object: string keys to JSON values. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

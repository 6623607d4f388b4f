/**
 * The room engine: PDU receipt checks, state at each event, soft failure, forward extremities, missing events.
 * @packageDocumentation
 */
export {};

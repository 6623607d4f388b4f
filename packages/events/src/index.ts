/**
 * Matrix PDUs: parsing and validation, redaction, event and room IDs, building and signing events, auth event selection.
 * @packageDocumentation
 */
export {};

/**
 * Unpadded base64, ed25519 (node:crypto or noble), sha256, signing and verifying JSON, content and reference hashes.
 * @packageDocumentation
 */
export {};

/**
 * Server names (Appendices › Server Name): `hostname [":" port]`, where the hostname is an IPv4
 * literal, a bracketed IPv6 literal or a DNS name.
 *
 * @module
 */
import { isIP } from 'node:net';
import { isValidServerName } from '@roomgraph/events';
import { FederationHttpError } from './errors.js';

/** A server name split into its parts. */
export interface ParsedServerName {
  /** The hostname without brackets (`::1` for `[::1]:8448`). */
  readonly hostname: string;
  /** The explicit port, if the name has one. */
  readonly port?: number;
  /** Whether the hostname is an IPv4 or IPv6 literal. */
  readonly ipLiteral: boolean;
}

/**
 * Parses a server name (Appendices › Server Name).
 * @throws {@link FederationHttpError} `FED_BAD_SERVER_NAME` when it does not match the grammar,
 *   the port is out of range, or a bracketed name is not an IPv6 literal.
 */
export function parseServerName(name: string): ParsedServerName {
  if (typeof name !== 'string' || !isValidServerName(name)) throw new FederationHttpError('FED_BAD_SERVER_NAME', `not a server name: ${JSON.stringify(name)}`);
  let host: string;
  let portText: string | undefined;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    host = name.slice(1, close);
    const rest = name.slice(close + 1);
    portText = rest.startsWith(':') ? rest.slice(1) : undefined;
    if (isIP(host) !== 6) throw new FederationHttpError('FED_BAD_SERVER_NAME', `not an IPv6 literal: ${JSON.stringify(name)}`);
  } else {
    const colon = name.lastIndexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    portText = colon < 0 ? undefined : name.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FederationHttpError('FED_BAD_SERVER_NAME', `bad port in ${JSON.stringify(name)}`);
  }
  const ipLiteral = isIP(host) !== 0;
  return { hostname: host, ...(port !== undefined ? { port } : {}), ipLiteral };
}

/** `hostname[:port]` as it appears in a server name or `Host` header (IPv6 bracketed). */
export function formatHostPort(hostname: string, port?: number): string {
  const h = isIP(hostname) === 6 ? `[${hostname}]` : hostname;
  return port === undefined ? h : `${h}:${port}`;
}

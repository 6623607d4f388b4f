/**
 * Matrix federation over HTTPS for roomgraph: {@link HttpTransport} (a `Transport`: server
 * discovery, `X-Matrix` request signing, TLS verification, timeouts, retries and a durable
 * outbound transaction queue), {@link HttpKeySource} (a `KeySource`: server keys fetched directly
 * or through notaries, checked and cached) and {@link FederationServer} (every Server-Server API
 * endpoint the engine serves, routed to a `FederationHandler`, with request authentication).
 * @packageDocumentation
 */
export { FederationHttpError, type FederationHttpErrorCode, MatrixHttpError, statusOfErrcode } from './errors.js';
export { parseServerName, formatHostPort, type ParsedServerName } from './serverName.js';
export { signRequest, parseXMatrix, verifyRequest, type XMatrixParams, type SignedRequest } from './xMatrix.js';
export {
  ServerResolver, cacheControlMaxAge, parseWellKnown,
  type ResolvedServer, type SrvRecord, type DiscoveryDns, type WellKnownResponse, type WellKnownFetcher, type ServerResolverOptions,
} from './resolve.js';
export { HttpClient, HttpFailure, type TlsClientOptions, type HttpClientLimits, type HttpRequest, type HttpResponse } from './http.js';
export { HttpTransport, type HttpTransportOptions, type RetryOptions, type Transaction } from './transport.js';
export { TransactionQueue, type QueueOptions, type TransactionResult } from './queue.js';
export { HttpKeySource, type HttpKeySourceOptions, type KeyFetcher } from './keys.js';
export { FederationServer, type FederationServerOptions, type FederationServerLimits } from './server.js';

/**
 * @hindsight/sdk — record audit events in one line and lose none: the client, helpers for the
 * built-in logs, and request logging for Express, Fastify, Hono and node:http.
 */
export type {
  Actor,
  Change,
  Channel,
  DeliveryStatus,
  EventInput,
  Outcome,
  StoredEvent,
  Target,
} from '@hindsight/core';
export type { EventProofReport, IntegrityVerdict } from '@hindsight/core/event-proof';
export { currentActor, SYSTEM_ACTOR, withActor } from './actor.js';
export { type ChangesOptions, changes } from './changes.js';
export { type CloseOptions, createClient, type HindsightClient } from './client.js';
export { type ErrorDetail, HindsightError, SDK_ERROR_CODES, type SdkErrorCode } from './errors.js';
export { type LoginInput, login } from './logins.js';
export {
  type MessageInput,
  type MessageStatusInput,
  message,
  messageStatus,
  type Receiver,
} from './messages.js';
export type { TrustProxy } from './middleware/client-ip.js';
export { expressRequestLogger } from './middleware/express.js';
export {
  type FastifyReplyLike,
  type FastifyRequestLike,
  type FastifyRequestPlugin,
  fastifyRequestLogger,
} from './middleware/fastify.js';
export { type HonoContextLike, honoRequestLogger } from './middleware/hono.js';
export { nodeRequestLogger } from './middleware/node.js';
export { DEFAULT_REDACT, REDACTED, redactUrl } from './middleware/redact.js';
export type { Recorder, RequestLogOptions } from './middleware/request-log.js';
export type { ClientOptions, OutboxOptions, RetryOptions } from './options.js';
export type { RecordInput } from './prepare.js';
export type { QueryFilters } from './query.js';
export type { VerifyEventOptions } from './verify.js';

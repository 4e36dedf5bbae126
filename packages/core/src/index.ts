/**
 * @hindsight/core — the event model, canonical JSON, hashing and the query-language parser.
 * No I/O: used by the server, the SDK, the console and the offline verifier alike.
 */
export { canonicalJson } from './canonical-json.js';
export {
  DELETED_USER,
  type Erased,
  type ErasedEvent,
  type ErasureSubject,
  emailKey,
  eraseEvent,
  subjectPaths,
} from './erase.js';
export { hashedViewWith, personalValues, type Salts } from './hashed-view.js';
export { type IpAddress, type IpRange, isIpAddress, parseIp, parseIpRange } from './ip.js';
export {
  commitment,
  hashedView,
  inputDigest,
  type LeafHashParts,
  leafHash,
  leafHashOf,
  leafHashParts,
  makeSalts,
  normalizeEvent,
  SALT_BYTES,
  sealEvent,
} from './leaf.js';
export * as merkle from './merkle.js';
export * as note from './note.js';
export * from './query.js';
export * from './schema.js';
export * from './settings.js';
export {
  hasControlCharacters,
  searchableTexts,
  searchText,
  searchTokens,
  showBidiControls,
} from './text.js';
export {
  jsonBytes,
  parseRfc3339,
  utf8Length,
  type ValidateOptions,
  type ValidationIssue,
  validateEvent,
} from './validate.js';
export {
  EVENTS_FORMAT,
  EXPORT_FORMAT,
  type ExportLine,
  ExportVerifier,
  type Problem,
  type ProblemKind,
  type PrunedLine,
  type RedactedLine,
  type VerifyOptions,
  type VerifyReport,
} from './verify.js';
export * from './views.js';

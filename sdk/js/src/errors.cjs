"use strict";
/**
 * One error class per API error code (API.md §1.3), all subclasses of `IncidentFoxError`.
 *
 * An error answer becomes the class of its `error.code`; a body that is not the documented shape (a proxy's HTML
 * page, say) still becomes the class of its HTTP status, with `code` inferred from the status.
 */

class IncidentFoxError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string|null, status?: number|null, requestId?: string|null, details?: object|null,
   *          field?: string|null, retryAfter?: number|null, cause?: unknown}} [options]
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    /** The API's error code, e.g. `validation_error`. */
    this.code = options.code ?? null;
    /** The HTTP status, or null when no answer arrived. */
    this.status = options.status ?? null;
    /** `req_…`: quote it in support requests; the server logs it. */
    this.requestId = options.requestId ?? null;
    this.details = options.details ?? null;
    /** The dotted path of the offending field, when the API named one. */
    this.field = options.field ?? null;
    /** Seconds to wait before retrying (429 only). */
    this.retryAfter = options.retryAfter ?? null;
  }

  toString() {
    const head = this.status == null ? this.code : `${this.status} ${this.code}`;
    const suffix = this.requestId ? ` (request ${this.requestId})` : "";
    return `${this.name}: ${head}: ${this.message}${suffix}`;
  }
}

/** 400 `invalid_request`: a malformed body, a missing field, an unknown or disabled agent, no team selected. */
class InvalidRequestError extends IncidentFoxError {}

/** 405 `method_not_allowed`. */
class MethodNotAllowedError extends InvalidRequestError {}

/** 415 `unsupported_media_type`. */
class UnsupportedMediaTypeError extends InvalidRequestError {}

/** 400 `validation_error`: a field has a bad type, range, enum value or format (`field`, `details` say which). */
class ValidationError extends IncidentFoxError {}

/** 400 `invalid_field`: the field is immutable or admin-only (`field` names it). */
class InvalidFieldError extends ValidationError {}

/** 401 `unauthorized`: a missing, malformed, unknown or revoked credential. */
class AuthenticationError extends IncidentFoxError {}

/** 401 `token_expired`: a genuine credential past its expiry. */
class TokenExpiredError extends AuthenticationError {}

/** 403 `forbidden`: authenticated, but not allowed (a read-only token writing, say). */
class PermissionDeniedError extends IncidentFoxError {}

/** 404 `not_found`, also for other teams' and orgs' objects. */
class NotFoundError extends IncidentFoxError {}

/** 409 `conflict`: cancelling a finished investigation, a reused idempotency key, … */
class ConflictError extends IncidentFoxError {}

/** 413 `payload_too_large`: a body or attachment limit. */
class PayloadTooLargeError extends IncidentFoxError {}

/** 429 `rate_limited`, once the client's retries ran out; `retryAfter` says when to try again. */
class RateLimitError extends IncidentFoxError {}

/** 500 `server_error`, or any 5xx without a known error body. */
class ServerError extends IncidentFoxError {}

/** No HTTP answer arrived: DNS, connection refused or reset, TLS. `code` is `network_error`, `status` null. */
class NetworkError extends IncidentFoxError {}

/** No answer within the client's `timeoutMs`. `code` is `request_timeout`, `status` null. */
class RequestTimeoutError extends NetworkError {}

/** The caller's `AbortSignal` fired: the request (or the wait between retries or polls) stopped. `code` is
 * `aborted`, `status` null, `cause` the signal's reason. Never retried. */
class RequestAbortedError extends IncidentFoxError {}

/**
 * `investigations.wait()` (or `investigate({wait: true})`) gave up before the investigation finished. Not an API
 * error: the investigation keeps running on the server. `investigation` is the last status seen.
 */
class WaitTimeoutError extends Error {
  constructor(message, { investigationId = null, investigation = null } = {}) {
    super(message);
    this.name = "WaitTimeoutError";
    this.investigationId = investigationId;
    this.investigation = investigation;
  }
}

const ERRORS_BY_CODE = Object.freeze({
  invalid_request: InvalidRequestError,
  method_not_allowed: MethodNotAllowedError,
  unsupported_media_type: UnsupportedMediaTypeError,
  validation_error: ValidationError,
  invalid_field: InvalidFieldError,
  unauthorized: AuthenticationError,
  token_expired: TokenExpiredError,
  forbidden: PermissionDeniedError,
  not_found: NotFoundError,
  conflict: ConflictError,
  payload_too_large: PayloadTooLargeError,
  rate_limited: RateLimitError,
  server_error: ServerError,
});

const CODES_BY_STATUS = Object.freeze({
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
});

/**
 * Seconds from a `Retry-After` header: delta-seconds or an HTTP date. Null when absent or unreadable.
 * @param {string|null|undefined} value
 * @param {number} [now] milliseconds since the epoch
 */
function parseRetryAfter(value, now = Date.now()) {
  if (value == null) return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function codeForStatus(status) {
  if (CODES_BY_STATUS[status]) return CODES_BY_STATUS[status];
  if (status >= 500) return "server_error";
  return "http_error";
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The error for an answer with status ≥ 400.
 * @param {number} status
 * @param {unknown} body the parsed JSON body, or null when it was not JSON
 * @param {{get(name: string): string|null}} [headers]
 * @returns {IncidentFoxError}
 */
function errorFromResponse(status, body, headers) {
  const header = (name) => (headers && typeof headers.get === "function" ? headers.get(name) : null);
  const error = isPlainObject(body) && isPlainObject(body.error) ? body.error : {};
  const code = typeof error.code === "string" && error.code ? error.code : codeForStatus(status);
  const details = isPlainObject(error.details) ? error.details : null;
  let field = typeof error.field === "string" ? error.field : null;
  if (field === null && details && typeof details.field === "string") field = details.field;
  let retryAfter = Number.isInteger(error.retry_after) ? error.retry_after : null;
  if (retryAfter === null) retryAfter = parseRetryAfter(header("retry-after"));
  const Class = ERRORS_BY_CODE[code] ?? ERRORS_BY_CODE[codeForStatus(status)] ?? (status >= 500 ? ServerError : IncidentFoxError);
  const message = typeof error.message === "string" && error.message ? error.message : `HTTP ${status}`;
  return new Class(message, {
    code,
    status,
    requestId: (typeof error.request_id === "string" && error.request_id) || header("x-request-id") || null,
    details,
    field,
    retryAfter,
  });
}

module.exports = {
  IncidentFoxError,
  InvalidRequestError,
  MethodNotAllowedError,
  UnsupportedMediaTypeError,
  ValidationError,
  InvalidFieldError,
  AuthenticationError,
  TokenExpiredError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitError,
  ServerError,
  NetworkError,
  RequestTimeoutError,
  RequestAbortedError,
  WaitTimeoutError,
  ERRORS_BY_CODE,
  CODES_BY_STATUS,
  parseRetryAfter,
  errorFromResponse,
};

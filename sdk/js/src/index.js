// The ES module entry of @incidentfox/sdk. The implementation is CommonJS (index.cjs) so that `require()` and
// `import` load one copy of it: `instanceof` checks and client state work the same from both.
import sdk from "./index.cjs";

export const {
  IncidentFoxClient,
  Investigation,
  VERSION,
  DEFAULT_BASE_URL,
  TERMINAL_STATUSES,
  backoffMs,
  pollDelays,
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
} = sdk;

export default sdk;

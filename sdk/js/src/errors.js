// The error classes as an ES module (the same objects as errors.cjs).
import errors from "./errors.cjs";

export const {
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
} = errors;

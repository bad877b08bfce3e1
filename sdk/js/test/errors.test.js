import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AuthenticationError,
  ConflictError,
  IncidentFoxClient,
  IncidentFoxError,
  InvalidFieldError,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TokenExpiredError,
  UnsupportedMediaTypeError,
  ValidationError,
  errorFromResponse,
  parseRetryAfter,
} from "../src/index.js";
import { BASE, ID, TOKEN, apiError, fakeFetch, fakeSleep } from "./support/fake-fetch.js";

function client(fetch) {
  return new IncidentFoxClient({ token: TOKEN, baseUrl: BASE, fetch, sleep: fakeSleep(), maxRetries: 0 });
}

async function rejection(promise) {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (error) => error,
  );
}

const CASES = [
  [400, "invalid_request", InvalidRequestError],
  [405, "method_not_allowed", MethodNotAllowedError],
  [415, "unsupported_media_type", UnsupportedMediaTypeError],
  [400, "validation_error", ValidationError],
  [400, "invalid_field", InvalidFieldError],
  [401, "unauthorized", AuthenticationError],
  [401, "token_expired", TokenExpiredError],
  [403, "forbidden", PermissionDeniedError],
  [404, "not_found", NotFoundError],
  [409, "conflict", ConflictError],
  [413, "payload_too_large", PayloadTooLargeError],
  [429, "rate_limited", RateLimitError],
  [500, "server_error", ServerError],
];

describe("each error code rejects with its own class", () => {
  for (const [status, code, ErrorClass] of CASES) {
    test(`${status} ${code} → ${ErrorClass.name}`, async () => {
      const fetch = fakeFetch(apiError(status, code, `A ${code}`, { details: { status: "completed" } }));
      const error = await rejection(client(fetch).investigations.get(ID));
      assert.equal(error.constructor, ErrorClass);
      assert.ok(error instanceof IncidentFoxError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, ErrorClass.name);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.equal(error.message, `A ${code}`);
      assert.equal(error.requestId, "req_jD6w5IPpcumagJpbMZEe");
      assert.deepEqual(error.details, { status: "completed" });
      assert.match(String(error), /req_jD6w5IPpcumagJpbMZEe/);
    });
  }
});

test("the subclasses follow the documented hierarchy", () => {
  assert.ok(new TokenExpiredError("x") instanceof AuthenticationError);
  assert.ok(new InvalidFieldError("x") instanceof ValidationError);
  assert.ok(new MethodNotAllowedError("x") instanceof InvalidRequestError);
  assert.ok(new UnsupportedMediaTypeError("x") instanceof InvalidRequestError);
  assert.ok(!(new ValidationError("x") instanceof InvalidRequestError));
});

test("field comes from error.field, or from details.field for validation errors", async () => {
  const invalidField = apiError(400, "invalid_field", "team_name is immutable and cannot be changed", {
    field: "team_name",
  });
  const validation = apiError(400, "validation_error", "Invalid configuration value", {
    details: { field: "agents.investigation_agent.timeout", error: "must be a positive integer" },
  });
  const api = client(fakeFetch(invalidField, validation));
  const first = await rejection(api.config.update({ team_name: "x" }));
  assert.ok(first instanceof InvalidFieldError);
  assert.equal(first.field, "team_name");
  const second = await rejection(api.config.update({ agents: {} }));
  assert.ok(second instanceof ValidationError);
  assert.equal(second.field, "agents.investigation_agent.timeout");
  assert.equal(second.details.error, "must be a positive integer");
});

describe("a body that is not the API's JSON still maps by HTTP status", () => {
  const cases = [
    [400, "invalid_request", InvalidRequestError],
    [401, "unauthorized", AuthenticationError],
    [403, "forbidden", PermissionDeniedError],
    [404, "not_found", NotFoundError],
    [405, "method_not_allowed", MethodNotAllowedError],
    [409, "conflict", ConflictError],
    [413, "payload_too_large", PayloadTooLargeError],
    [415, "unsupported_media_type", UnsupportedMediaTypeError],
    [500, "server_error", ServerError],
    [502, "server_error", ServerError],
    [503, "server_error", ServerError],
  ];
  for (const [status, code, ErrorClass] of cases) {
    test(`HTML ${status} → ${ErrorClass.name} with code ${code}`, async () => {
      const fetch = fakeFetch({ status, raw: "<html>Bad Gateway</html>", headers: { "X-Request-ID": "req_proxy" } });
      const error = await rejection(client(fetch).investigations.get(ID));
      assert.equal(error.constructor, ErrorClass);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.equal(error.message, `HTTP ${status}`);
      assert.equal(error.requestId, "req_proxy", "the X-Request-ID header stands in for error.request_id");
    });
  }

  test("an unlisted 4xx is a plain IncidentFoxError", () => {
    const error = errorFromResponse(418, null, new Headers());
    assert.equal(error.constructor, IncidentFoxError);
    assert.equal(error.code, "http_error");
    assert.equal(error.requestId, null);
  });

  test("an unknown code keeps its code and takes the class of its status", () => {
    const error = errorFromResponse(409, { error: { code: "brand_new", message: "m", request_id: "req_x" } });
    assert.equal(error.constructor, ConflictError);
    assert.equal(error.code, "brand_new");
  });
});

test("a 2xx body that is not JSON rejects with an IncidentFoxError", async () => {
  const error = await rejection(client(fakeFetch({ status: 200, raw: "<html>" })).investigations.get(ID));
  assert.ok(error instanceof IncidentFoxError);
  assert.equal(error.code, "invalid_response");
});

test("Retry-After is read as seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("42"), 42);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("soon"), null);
  const now = Date.parse("2024-01-15T10:30:00Z");
  assert.equal(parseRetryAfter("Mon, 15 Jan 2024 10:30:30 GMT", now), 30);
});

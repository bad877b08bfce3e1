/**
 * `@incidentfox/sdk`: the IncidentFox HTTP API v1 (API.md §8) as promises. Zero dependencies, Node ≥ 18.
 *
 *     import { IncidentFoxClient } from "@incidentfox/sdk";
 *     const client = new IncidentFoxClient({ token: process.env.INCIDENTFOX_TOKEN });
 *     const inv = await client.investigate({ message: "High error rate in checkout" });
 *     console.log(inv.status, inv.summary, inv.rootCause?.description);
 *
 * Every error answer rejects with the `IncidentFoxError` subclass of its code. A 429 is retried after
 * `Retry-After` seconds, up to `maxRetries` times. `investigate({wait: true})` starts the run asynchronously and
 * polls with the documented backoff (1 s, doubling up to 10 s), so no request stays open for the whole run.
 */

"use strict";

const errors = require("./errors.cjs");

const {
  IncidentFoxError,
  NetworkError,
  RateLimitError,
  RequestAbortedError,
  RequestTimeoutError,
  WaitTimeoutError,
  errorFromResponse,
} = errors;

const VERSION = "0.2.0";
const DEFAULT_BASE_URL = "https://api.incidentfox.ai/api/v1";
const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 10000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 8000;
/** Methods that change nothing, or nothing more when repeated (RFC 9110 §9.2.2): retried after no answer or a 5xx. */
const RETRY_SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * Exponential backoff with jitter: the `attempt`-th retry (0-based) waits between half and all of 500 ms × 2^attempt,
 * capped at 8 s, so clients that failed together do not retry together.
 */
function backoffMs(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_FIRST_MS * 2 ** attempt, BACKOFF_MAX_MS);
  return ceiling * (0.5 + random() / 2);
}

function newIdempotencyKey() {
  const uuid = globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : require("node:crypto").randomUUID();
  return `ifjs_${uuid.replace(/-/g, "")}`;
}

function abortedError(signal) {
  return new RequestAbortedError("The request was aborted by its AbortSignal", {
    code: "aborted",
    cause: signal.reason,
  });
}

function throwIfAborted(signal) {
  if (signal?.aborted) throw abortedError(signal);
}

/** The request options every method accepts next to its own: `signal`, `timeoutMs`, extra `headers`. */
function requestOptions(options) {
  const { signal, timeoutMs, headers } = options ?? {};
  return { signal, timeoutMs, headers };
}

/** Milliseconds between status polls: 1000, 2000, 4000, 8000, 10000, 10000, … (API.md §4.2). */
function* pollDelays() {
  let delay = POLL_FIRST_MS;
  for (;;) {
    yield delay;
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
}

/** Resolves after `ms`; an aborted `signal` clears the timer (the caller rejects). */
function defaultSleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function isTerminal(status) {
  return TERMINAL_STATUSES.includes(status);
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A status body (API.md §4.2) as the API sent it (`investigation_id`, `status`, `result`, … in snake_case), plus
 * getters that read from `result`: `summary`, `rootCause`, `timeline`, `affectedSystems` and `recommendations`
 * are null until the investigation has completed. `JSON.stringify(inv)` gives the raw body back.
 */
class Investigation {
  constructor(body) {
    for (const [key, value] of Object.entries(body ?? {})) {
      // defineProperty, not assignment: a body key that shares a getter's name must not throw.
      Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }

  #result(key) {
    const result = this.result;
    return isPlainObject(result) && result[key] !== undefined ? result[key] : null;
  }

  /** The investigation id (`investigation_id`). */
  get id() {
    return this.investigation_id ?? null;
  }

  /** True once the status is `completed`, `failed` or `cancelled`. */
  get done() {
    return isTerminal(this.status);
  }

  get summary() {
    const value = this.#result("summary");
    return typeof value === "string" ? value : null;
  }

  get rootCause() {
    const value = this.#result("root_cause");
    return isPlainObject(value) ? value : null;
  }

  get timeline() {
    const value = this.#result("timeline");
    return Array.isArray(value) ? value : null;
  }

  get affectedSystems() {
    const value = this.#result("affected_systems");
    return Array.isArray(value) ? value : null;
  }

  get recommendations() {
    const value = this.#result("recommendations");
    return Array.isArray(value) ? value : null;
  }
}

function queryString(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      if (value.length) search.append(name, value.join(","));
    } else if (value instanceof Date) {
      search.append(name, value.toISOString());
    } else {
      search.append(name, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** An environment variable's non-empty value under Node; undefined elsewhere (browsers have no process). */
function envValue(name) {
  const value = globalThis.process?.env?.[name];
  return value ? value : undefined;
}

class IncidentFoxClient {
  /**
   * @param {object} options
   * @param {string} [options.token] defaults to INCIDENTFOX_API_KEY (or INCIDENTFOX_TOKEN); a team token (`ift_…`), an org-admin token (`ifa_…`) or an OIDC JWT
   * @param {string} [options.baseUrl] defaults to INCIDENTFOX_BASE_URL, else the hosted API
   * @param {string} [options.teamId] sent as `X-Team-Id` (needed by org-admin tokens and multi-team OIDC users)
   * @param {number} [options.maxRetries] retries of a 429, and of no answer or a 5xx for calls safe to repeat
   * @param {number} [options.timeoutMs] per request
   * @param {typeof fetch} [options.fetch]
   * @param {(ms: number, signal?: AbortSignal) => Promise<void>} [options.sleep] for tests
   * @param {() => number} [options.random] the jitter's source, for tests
   */
  constructor({
    token = envValue("INCIDENTFOX_API_KEY") ?? envValue("INCIDENTFOX_TOKEN"),
    baseUrl = envValue("INCIDENTFOX_BASE_URL") ?? DEFAULT_BASE_URL,
    teamId,
    maxRetries = 3,
    timeoutMs = 30000,
    fetch = globalThis.fetch,
    sleep = defaultSleep,
    random = Math.random,
  } = {}) {
    if (typeof token !== "string" || !token) throw new TypeError("IncidentFoxClient: `token` is required (or set INCIDENTFOX_API_KEY)");
    if (typeof fetch !== "function") {
      throw new TypeError("IncidentFoxClient: no global fetch (Node ≥ 18 needed); pass `fetch`");
    }
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new TypeError("IncidentFoxClient: `maxRetries` must be a non-negative integer");
    }
    this.baseUrl = String(baseUrl).replace(/\/+$/, "");
    this.teamId = teamId ?? null;
    this.maxRetries = maxRetries;
    this.timeoutMs = timeoutMs;
    /** What the last answer said besides its body: `{status, requestId, rateLimit, idempotentReplayed, attempts, headers}`. */
    this.lastResponse = null;
    // The token stays out of enumerable fields so that logging the client does not print it.
    Object.defineProperty(this, "_token", { value: token, enumerable: false });
    Object.defineProperty(this, "_fetch", { value: fetch, enumerable: false });
    Object.defineProperty(this, "_sleep", { value: sleep, enumerable: false });
    Object.defineProperty(this, "_random", { value: random, enumerable: false });
    this.investigations = new Investigations(this);
    this.config = new Config(this);
    this.knowledge = new Knowledge(this);
    this.webhooks = new Webhooks(this);
    this.integrations = new Integrations(this);
  }

  /**
   * One API call: resolves the parsed body, or rejects with the error's class. A 429 is retried after
   * `Retry-After`; no answer or a 5xx is retried with jittered exponential backoff when the call is safe to repeat
   * (GET, HEAD, PUT, DELETE, or a POST with an `Idempotency-Key`); at most `maxRetries` times.
   * @param {string} method
   * @param {string} path relative to `baseUrl`, e.g. `/agents/investigations`
   * @param {{query?: object, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal, timeoutMs?: number}} [options]
   */
  async request(method, path, { query, body, headers, signal, timeoutMs } = {}) {
    method = method.toUpperCase();
    const url = `${this.baseUrl}${path}${queryString(query)}`;
    const sendHeaders = {
      Authorization: `Bearer ${this._token}`,
      Accept: "application/json",
      "X-IncidentFox-SDK": `js/${VERSION}`,
    };
    if (this.teamId != null) sendHeaders["X-Team-Id"] = String(this.teamId);
    if (body !== undefined) sendHeaders["Content-Type"] = "application/json";
    Object.assign(sendHeaders, headers);
    const init = { method, headers: sendHeaders };
    if (body !== undefined) init.body = JSON.stringify(body);
    const retrySafe =
      RETRY_SAFE_METHODS.has(method) || Object.keys(sendHeaders).some((name) => name.toLowerCase() === "idempotency-key");

    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      let error;
      let answer;
      try {
        answer = await this.#send(url, init, signal, timeoutMs ?? this.timeoutMs);
      } catch (caught) {
        if (!(caught instanceof NetworkError)) throw caught;
        error = caught;
      }
      if (answer) {
        this.lastResponse = responseMeta(answer, attempt + 1);
        if (answer.status < 400) {
          if (answer.body === undefined) {
            throw new IncidentFoxError(`HTTP ${answer.status} with a body that is not JSON`, {
              code: "invalid_response",
              status: answer.status,
              requestId: answer.headers.get("x-request-id"),
            });
          }
          return answer.body;
        }
        error = errorFromResponse(answer.status, answer.body ?? null, answer.headers);
      }
      const delay = this.#retryDelay(error, attempt, retrySafe);
      if (delay === null) throw error;
      await this._pause(delay, signal);
    }
  }

  #retryDelay(error, attempt, retrySafe) {
    if (attempt >= this.maxRetries) return null;
    if (error instanceof RateLimitError) {
      return error.retryAfter != null ? error.retryAfter * 1000 : backoffMs(attempt, this._random);
    }
    const unknownOutcome = error instanceof NetworkError || (error.status != null && error.status >= 500);
    if (!unknownOutcome || !retrySafe) return null;
    return error.retryAfter != null ? error.retryAfter * 1000 : backoffMs(attempt, this._random);
  }

  /** Sleep `ms` (through the injected `sleep`), rejecting with RequestAbortedError as soon as `signal` fires. */
  async _pause(ms, signal) {
    if (!signal) return this._sleep(ms);
    throwIfAborted(signal);
    let onAbort;
    const aborted = new Promise((_, reject) => {
      onAbort = () => reject(abortedError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this._sleep(ms, signal), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** fetch with a timeout and the caller's signal; resolves {status, headers, body} (body: parsed JSON, null if
   * empty, undefined if not JSON) or rejects with NetworkError / RequestTimeoutError / RequestAbortedError. */
  async #send(url, init, signal, timeoutMs) {
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs != null && timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : null;
    const onAbort = () => controller.abort(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const fetchImpl = this._fetch;
    try {
      const response = await fetchImpl(url, { ...init, signal: controller.signal });
      const text = await response.text();
      let body = null;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      return { status: response.status, headers: response.headers, body };
    } catch (error) {
      if (error instanceof IncidentFoxError) throw error;
      if (signal?.aborted) throw abortedError(signal);
      if (timedOut) {
        throw new RequestTimeoutError(`No answer from ${init.method} ${url} within ${timeoutMs} ms`, {
          code: "request_timeout",
          cause: error,
        });
      }
      const reason = error?.cause?.code ?? error?.message ?? String(error);
      throw new NetworkError(`${init.method} ${url} failed: ${reason}`, { code: "network_error", cause: error });
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Every page of a list endpoint from offset 0, until `pagination.total` is reached or a page is empty. */
  async *_pages(path, query, key, pageSize, options) {
    let offset = 0;
    for (;;) {
      const page = await this.request("GET", path, { ...requestOptions(options), query: { ...query, limit: pageSize, offset } });
      const items = page[key] ?? [];
      yield items;
      offset += items.length;
      if (!items.length || offset >= (page.pagination?.total ?? 0)) return;
    }
  }

  /**
   * Start an investigation (`POST /agents/run` with `async: true`). With `wait` (default), resolve it once it is
   * completed, failed or cancelled, polling with the §4.2 backoff; otherwise resolve the 202 body (`pending`).
   * `timeout` is the server-side deadline in seconds (10–1800); `waitTimeoutMs` bounds the client's wait. The start
   * always carries an `Idempotency-Key` (`idempotencyKey`, else a fresh one), so a retried start replays the same
   * run. `signal` aborts the start and the wait.
   * @param {object|string} options the options, or just the message
   */
  async investigate(options = {}, extra = {}) {
    if (typeof options === "string") options = { ...extra, message: options };
    const { message, agent = "planner", context, wait = true, timeout, maxTurns, idempotencyKey, waitTimeoutMs, onProgress } =
      options;
    const body = { agent_name: agent, message };
    if (context !== undefined && context !== null) body.context = context;
    if (timeout !== undefined && timeout !== null) body.timeout = timeout;
    if (maxTurns !== undefined && maxTurns !== null) body.max_turns = maxTurns;
    body.async = true;
    const req = requestOptions(options);
    const headers = { ...req.headers, "Idempotency-Key": idempotencyKey || newIdempotencyKey() };
    const accepted = await this.request("POST", "/agents/run", { ...req, body, headers });
    if (!wait) return new Investigation(accepted);
    return this.investigations.wait(accepted.investigation_id, {
      ...req,
      timeoutMs: waitTimeoutMs,
      accepted,
      onProgress,
    });
  }

  /** The team's agents with the tools each can call now (`GET /agents`). */
  async agents(options) {
    const body = await this.request("GET", "/agents", requestOptions(options));
    return body.agents;
  }

  /** Who the credential is (`GET /auth/me`). */
  async me(options) {
    return this.request("GET", "/auth/me", requestOptions(options));
  }
}

function responseMeta(answer, attempts) {
  const headers = answer.headers;
  const number = (name) => {
    const value = headers.get(name);
    return value != null && /^\d+$/.test(value.trim()) ? Number(value) : null;
  };
  return {
    status: answer.status,
    requestId: headers.get("x-request-id"),
    rateLimit: {
      limit: number("x-ratelimit-limit"),
      remaining: number("x-ratelimit-remaining"),
      reset: number("x-ratelimit-reset"),
    },
    idempotentReplayed: (headers.get("idempotent-replayed") ?? "").toLowerCase() === "true",
    attempts,
    headers: Object.fromEntries(headers.entries()),
  };
}

const id = (value) => encodeURIComponent(value);

class Investigations {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** `GET /agents/status/{id}`. */
  async get(investigationId, options) {
    return new Investigation(await this.#client.request("GET", `/agents/status/${id(investigationId)}`, requestOptions(options)));
  }

  /**
   * `GET /agents/investigations`: resolves `{investigations, pagination}` as the API sent it. `status` may be an
   * array; `since` and `until` may be Dates.
   */
  async list(options = {}) {
    const { limit, offset, status, agent, since, until, q } = options;
    return this.#client.request("GET", "/agents/investigations", {
      ...requestOptions(options),
      query: { limit, offset, status, agent, since, until, q },
    });
  }

  /** Every matching investigation, newest first, fetching pages of `pageSize` (100) as the loop needs them. */
  async *iterate(options = {}) {
    const { status, agent, since, until, q, pageSize = 100 } = options;
    const pages = this.#client._pages("/agents/investigations", { status, agent, since, until, q }, "investigations", pageSize, options);
    for await (const items of pages) yield* items;
  }

  /** `POST /agents/status/{id}/cancel`: a finished investigation rejects with ConflictError (409). */
  async cancel(investigationId, options) {
    return new Investigation(
      await this.#client.request("POST", `/agents/status/${id(investigationId)}/cancel`, requestOptions(options)),
    );
  }

  /**
   * `POST /agents/status/{id}/postmortem`: a blameless draft (`markdown`, `sections`) of a completed investigation
   * (ConflictError otherwise). With `save`, store it, or the edited `markdown`, in the knowledge base.
   */
  async postmortem(investigationId, options = {}) {
    const { save = false, markdown } = options;
    return this.#client.request("POST", `/agents/status/${id(investigationId)}/postmortem`, {
      ...requestOptions(options),
      query: save ? { save: true } : undefined,
      body: markdown === undefined ? undefined : { markdown },
    });
  }

  /**
   * Poll until completed, failed or cancelled: 1 s, doubling up to 10 s. With `timeoutMs`, reject with
   * WaitTimeoutError once that much time has passed (the investigation keeps running on the server). `onProgress`
   * sees every poll; `signal` stops the wait with RequestAbortedError.
   */
  async wait(investigationId, { timeoutMs, accepted, onProgress, signal, headers } = {}) {
    const client = this.#client;
    const delays = pollDelays();
    const started = Date.now();
    let slept = 0;
    let current = accepted ? new Investigation(accepted) : null;
    // Just accepted and still pending: the first poll comes after the first delay, not at once.
    let fetchNow = !accepted || isTerminal(accepted.status);
    for (;;) {
      if (fetchNow) {
        current = await this.get(investigationId, { signal, headers });
        if (onProgress) await onProgress(current);
        if (current.done) return current;
      }
      fetchNow = true;
      let delay = delays.next().value;
      if (timeoutMs !== undefined && timeoutMs !== null) {
        // Real time, or the time slept when `sleep` is a test double that returns at once.
        const remaining = timeoutMs - Math.max(Date.now() - started, slept);
        if (remaining <= 0) {
          throw new WaitTimeoutError(
            `Investigation ${investigationId} is still ${current?.status ?? "unknown"} after ${timeoutMs} ms`,
            { investigationId, investigation: current },
          );
        }
        delay = Math.min(delay, remaining);
      }
      await client._pause(delay, signal);
      slept += delay;
    }
  }
}

class Config {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** The team's merged config, secrets masked (`GET /config/me/effective`). */
  async getEffective(options) {
    return this.#client.request("GET", "/config/me/effective", requestOptions(options));
  }

  /** Each lineage node's stored overrides and the team's `version` (`GET /config/me/raw`). */
  async getRaw(options) {
    return this.#client.request("GET", "/config/me/raw", requestOptions(options));
  }

  /**
   * `PUT /config/me` with a JSON merge patch (`null` deletes a key). Resolves the body as the API sent it: applied
   * (200: `version`, `changed_fields`, `effective_config`) or held for approval (202: `status: "pending_approval"`,
   * `change_request_id`, `approvers`, `changes`).
   */
  async update(patch, options) {
    return this.#client.request("PUT", "/config/me", { ...requestOptions(options), body: patch });
  }

  /** `GET /config/me/audit`: the applied changes, newest first, each with its `diff` (and `full_config`). */
  async audit(options = {}) {
    const { limit, includeFull } = options;
    const body = await this.#client.request("GET", "/config/me/audit", {
      ...requestOptions(options),
      query: { limit, include_full: includeFull },
    });
    return body.history;
  }

  /** `GET /config/me/pending`: change requests, `pending_approval` by default (or `approved`, `rejected`, `all`). */
  async pending(options = {}) {
    const { status } = options;
    const body = await this.#client.request("GET", "/config/me/pending", { ...requestOptions(options), query: { status } });
    return body.changes;
  }
}

/** Outbound webhooks (API.md §6): the signing secret, a test send, and the delivery log. */
class Webhooks {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** `GET /webhooks/secret`: `{secret: "whsec_…", created_at, previous_secret_expires_at}`. */
  async secret(options) {
    return this.#client.request("GET", "/webhooks/secret", requestOptions(options));
  }

  /** `POST /webhooks/secret/rotate`: a new secret; the old one co-signs for 24 h. */
  async rotateSecret(options) {
    return this.#client.request("POST", "/webhooks/secret/rotate", requestOptions(options));
  }

  /** `POST /webhooks/test`: one signed `webhook.test` event to `url` (else the configured URL), reported. */
  async test(options = {}) {
    const { url } = options;
    return this.#client.request("POST", "/webhooks/test", {
      ...requestOptions(options),
      body: url === undefined ? undefined : { url },
    });
  }

  /** `GET /webhooks/deliveries`: `{deliveries, pagination}`, newest first. */
  async deliveries(options = {}) {
    const { limit, offset, investigationId, outcome } = options;
    return this.#client.request("GET", "/webhooks/deliveries", {
      ...requestOptions(options),
      query: { limit, offset, investigation_id: investigationId, outcome },
    });
  }

  /** Every matching delivery attempt, page by page. */
  async *iterateDeliveries(options = {}) {
    const { investigationId, outcome, pageSize = 100 } = options;
    const query = { investigation_id: investigationId, outcome };
    for await (const items of this.#client._pages("/webhooks/deliveries", query, "deliveries", pageSize, options)) {
      yield* items;
    }
  }
}

/** Inbound alert webhooks the team received (`GET /integrations/deliveries`). */
class Integrations {
  #client;

  constructor(client) {
    this.#client = client;
  }

  async deliveries(options = {}) {
    const { limit, offset, provider } = options;
    return this.#client.request("GET", "/integrations/deliveries", {
      ...requestOptions(options),
      query: { limit, offset, provider },
    });
  }

  async *iterateDeliveries(options = {}) {
    const { provider, pageSize = 100 } = options;
    for await (const items of this.#client._pages("/integrations/deliveries", { provider }, "deliveries", pageSize, options)) {
      yield* items;
    }
  }
}

/** The team's knowledge base (API.md §10): runbooks, notes and postmortems, inherited down the org tree. */
class Knowledge {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** `POST /kb/teach`: create a document; the same `key` updates it. `nodeId` (org admins) shares it from above. */
  async teach(options = {}) {
    const { content, type = "runbook", title, service, tags, key, nodeId } = options;
    return this.#client.request("POST", "/kb/teach", {
      ...requestOptions(options),
      body: dropUndefined({ content, type, title, service, tags, key, node_id: nodeId }),
    });
  }

  /** `POST /kb/retrieve`: `{query_id, results}`, the best passage of each of the `topK` most relevant documents. */
  async retrieve(options = {}) {
    const { query, service, topK } = options;
    return this.#client.request("POST", "/kb/retrieve", {
      ...requestOptions(options),
      body: dropUndefined({ query, service, top_k: topK }),
    });
  }

  /** `POST /kb/answer`: an answer citing its sources as [1], [2], …; the team's model writes it in LLM mode. */
  async answer(options = {}) {
    const { question, service, includeSources } = options;
    return this.#client.request("POST", "/kb/answer", {
      ...requestOptions(options),
      body: dropUndefined({ question, service, include_sources: includeSources }),
    });
  }

  /** `POST /kb/feedback` (204): whether a retrieval or answer helped; it feeds the ranking. */
  async feedback(options = {}) {
    const { queryId, helpful, comment } = options;
    await this.#client.request("POST", "/kb/feedback", {
      ...requestOptions(options),
      body: dropUndefined({ query_id: queryId, helpful, comment }),
    });
  }

  /** `GET /kb/documents`: `{documents, pagination}`. */
  async documents(options = {}) {
    const { limit, offset, type, service, q } = options;
    return this.#client.request("GET", "/kb/documents", {
      ...requestOptions(options),
      query: { limit, offset, type, service, q },
    });
  }

  /** Every matching document, page by page. */
  async *iterateDocuments(options = {}) {
    const { type, service, q, pageSize = 100 } = options;
    for await (const items of this.#client._pages("/kb/documents", { type, service, q }, "documents", pageSize, options)) {
      yield* items;
    }
  }

  /** `GET /kb/documents/{id}`: one document with its content. */
  async get(documentId, options) {
    return this.#client.request("GET", `/kb/documents/${id(documentId)}`, requestOptions(options));
  }

  /** `DELETE /kb/documents/{id}` (204). */
  async delete(documentId, options) {
    await this.#client.request("DELETE", `/kb/documents/${id(documentId)}`, requestOptions(options));
  }

  /** `GET /kb/tree/stats`: documents per node of the team's lineage and per type. */
  async treeStats(options) {
    return this.#client.request("GET", "/kb/tree/stats", requestOptions(options));
  }

  /** `GET /kb/status`: the search index's engine, counts and state. */
  async status(options) {
    return this.#client.request("GET", "/kb/status", requestOptions(options));
  }
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

module.exports = {
  ...errors,
  VERSION,
  DEFAULT_BASE_URL,
  TERMINAL_STATUSES,
  IncidentFoxClient,
  Investigation,
  backoffMs,
  pollDelays,
};

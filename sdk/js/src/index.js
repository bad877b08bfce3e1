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

import {
  IncidentFoxError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  WaitTimeoutError,
  errorFromResponse,
} from "./errors.js";

export * from "./errors.js";

export const VERSION = "0.1.0";
export const DEFAULT_BASE_URL = "https://api.incidentfox.ai/api/v1";
export const TERMINAL_STATUSES = Object.freeze(["completed", "failed", "cancelled"]);

const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 10000;
const NETWORK_RETRY_FIRST_MS = 500;
const NETWORK_RETRY_MAX_MS = 8000;
/** Methods whose network failures are retried: nothing was changed, or repeating changes nothing. */
const NETWORK_RETRY_METHODS = new Set(["GET", "HEAD"]);

/** Milliseconds between status polls: 1000, 2000, 4000, 8000, 10000, 10000, … (API.md §4.2). */
export function* pollDelays() {
  let delay = POLL_FIRST_MS;
  for (;;) {
    yield delay;
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
}

const defaultSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
export class Investigation {
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

export class IncidentFoxClient {
  /**
   * @param {object} options
   * @param {string} [options.token] defaults to INCIDENTFOX_API_KEY (or INCIDENTFOX_TOKEN); a team token (`ift_…`), an org-admin token (`ifa_…`) or an OIDC JWT
   * @param {string} [options.baseUrl] defaults to INCIDENTFOX_BASE_URL, else the hosted API
   * @param {string} [options.teamId] sent as `X-Team-Id` (needed by org-admin tokens and multi-team OIDC users)
   * @param {number} [options.maxRetries] retries of a 429 (and of network failures of GETs)
   * @param {number} [options.timeoutMs] per request
   * @param {typeof fetch} [options.fetch]
   * @param {(ms: number) => Promise<void>} [options.sleep] for tests
   */
  constructor({
    token = envValue("INCIDENTFOX_API_KEY") ?? envValue("INCIDENTFOX_TOKEN"),
    baseUrl = envValue("INCIDENTFOX_BASE_URL") ?? DEFAULT_BASE_URL,
    teamId,
    maxRetries = 3,
    timeoutMs = 30000,
    fetch = globalThis.fetch,
    sleep = defaultSleep,
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
    // The token stays out of enumerable fields so that logging the client does not print it.
    Object.defineProperty(this, "_token", { value: token, enumerable: false });
    Object.defineProperty(this, "_fetch", { value: fetch, enumerable: false });
    Object.defineProperty(this, "_sleep", { value: sleep, enumerable: false });
    this.investigations = new Investigations(this);
    this.config = new Config(this);
    this.knowledge = new Knowledge(this);
  }

  /**
   * One API call: resolves the parsed body, or rejects with the error's class (after retrying 429s).
   * @param {string} method
   * @param {string} path relative to `baseUrl`, e.g. `/agents/investigations`
   * @param {{query?: object, body?: unknown, headers?: Record<string, string>}} [options]
   */
  async request(method, path, { query, body, headers } = {}) {
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

    for (let attempt = 0; ; attempt++) {
      let answer;
      try {
        answer = await this.#send(url, init);
      } catch (error) {
        if (error instanceof NetworkError && NETWORK_RETRY_METHODS.has(method) && attempt < this.maxRetries) {
          await this._sleep(Math.min(NETWORK_RETRY_FIRST_MS * 2 ** attempt, NETWORK_RETRY_MAX_MS));
          continue;
        }
        throw error;
      }
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
      const error = errorFromResponse(answer.status, answer.body ?? null, answer.headers);
      if (error instanceof RateLimitError && attempt < this.maxRetries) {
        await this._sleep((error.retryAfter ?? 1) * 1000);
        continue;
      }
      throw error;
    }
  }

  /** fetch with the client's timeout; resolves {status, headers, body} (body: parsed JSON, null if empty,
   * undefined if not JSON) or rejects with NetworkError / RequestTimeoutError. */
  async #send(url, init) {
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      this.timeoutMs != null && this.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, this.timeoutMs)
        : null;
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
      if (timedOut) {
        throw new RequestTimeoutError(`No answer from ${init.method} ${url} within ${this.timeoutMs} ms`, {
          code: "request_timeout",
          cause: error,
        });
      }
      const reason = error?.cause?.code ?? error?.message ?? String(error);
      throw new NetworkError(`${init.method} ${url} failed: ${reason}`, { code: "network_error", cause: error });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * Start an investigation (`POST /agents/run` with `async: true`). With `wait` (default), resolve it once it is
   * completed, failed or cancelled, polling with the §4.2 backoff; otherwise resolve the 202 body (`pending`).
   * `timeout` is the server-side deadline in seconds (10–1800); `waitTimeoutMs` bounds the client's wait.
   * @param {object|string} options the options, or just the message
   */
  async investigate(options = {}, extra = {}) {
    if (typeof options === "string") options = { ...extra, message: options };
    const { message, agent = "planner", context, wait = true, timeout, maxTurns, idempotencyKey, waitTimeoutMs } =
      options;
    const body = { agent_name: agent, message };
    if (context !== undefined && context !== null) body.context = context;
    if (timeout !== undefined && timeout !== null) body.timeout = timeout;
    if (maxTurns !== undefined && maxTurns !== null) body.max_turns = maxTurns;
    body.async = true;
    const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : undefined;
    const accepted = await this.request("POST", "/agents/run", { body, headers });
    if (!wait) return new Investigation(accepted);
    return this.investigations.wait(accepted.investigation_id, { timeoutMs: waitTimeoutMs, accepted });
  }

  /** The team's agents with the tools each can call now (`GET /agents`). */
  async agents() {
    const body = await this.request("GET", "/agents");
    return body.agents;
  }

  /** Who the credential is (`GET /auth/me`). */
  async me() {
    return this.request("GET", "/auth/me");
  }
}

class Investigations {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** `GET /agents/status/{id}`. */
  async get(investigationId) {
    return new Investigation(await this.#client.request("GET", `/agents/status/${encodeURIComponent(investigationId)}`));
  }

  /**
   * `GET /agents/investigations`: resolves `{investigations, pagination}` as the API sent it. `status` may be an
   * array; `since` and `until` may be Dates.
   */
  async list({ limit, offset, status, agent, since, until, q } = {}) {
    return this.#client.request("GET", "/agents/investigations", {
      query: { limit, offset, status, agent, since, until, q },
    });
  }

  /** `POST /agents/status/{id}/cancel`: a finished investigation rejects with ConflictError (409). */
  async cancel(investigationId) {
    return new Investigation(
      await this.#client.request("POST", `/agents/status/${encodeURIComponent(investigationId)}/cancel`),
    );
  }

  /**
   * `POST /agents/status/{id}/postmortem`: a blameless draft (`markdown`, `sections`) of a completed investigation
   * (ConflictError otherwise). With `save`, store it, or the edited `markdown`, in the knowledge base.
   */
  async postmortem(investigationId, { save = false, markdown } = {}) {
    return this.#client.request("POST", `/agents/status/${encodeURIComponent(investigationId)}/postmortem`, {
      query: save ? { save: true } : undefined,
      body: markdown === undefined ? undefined : { markdown },
    });
  }

  /**
   * Poll until completed, failed or cancelled: 1 s, doubling up to 10 s. With `timeoutMs`, reject with
   * WaitTimeoutError once that much time has passed (the investigation keeps running on the server).
   */
  async wait(investigationId, { timeoutMs, accepted } = {}) {
    const client = this.#client;
    const delays = pollDelays();
    const started = Date.now();
    let slept = 0;
    let current = accepted ? new Investigation(accepted) : null;
    // Just accepted and still pending: the first poll comes after the first delay, not at once.
    let fetchNow = !accepted || isTerminal(accepted.status);
    for (;;) {
      if (fetchNow) {
        current = await this.get(investigationId);
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
      await client._sleep(delay);
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
  async getEffective() {
    return this.#client.request("GET", "/config/me/effective");
  }

  /** Each lineage node's stored overrides and the team's `version` (`GET /config/me/raw`). */
  async getRaw() {
    return this.#client.request("GET", "/config/me/raw");
  }

  /**
   * `PUT /config/me` with a JSON merge patch (`null` deletes a key). Resolves the body as the API sent it: applied
   * (200: `version`, `changed_fields`, `effective_config`) or held for approval (202: `status: "pending_approval"`,
   * `change_request_id`, `approvers`, `changes`).
   */
  async update(patch) {
    return this.#client.request("PUT", "/config/me", { body: patch });
  }
}

/** The team's knowledge base (API.md §10): runbooks, notes and postmortems, inherited down the org tree. */
class Knowledge {
  #client;

  constructor(client) {
    this.#client = client;
  }

  /** `POST /kb/teach`: create a document; the same `key` updates it. `nodeId` (org admins) shares it from above. */
  async teach({ content, type = "runbook", title, service, tags, key, nodeId } = {}) {
    return this.#client.request("POST", "/kb/teach", {
      body: dropUndefined({ content, type, title, service, tags, key, node_id: nodeId }),
    });
  }

  /** `POST /kb/retrieve`: `{query_id, results}`, the best passage of each of the `topK` most relevant documents. */
  async retrieve({ query, service, topK } = {}) {
    return this.#client.request("POST", "/kb/retrieve", { body: dropUndefined({ query, service, top_k: topK }) });
  }

  /** `POST /kb/answer`: an answer citing its sources as [1], [2], …; the team's model writes it in LLM mode. */
  async answer({ question, service, includeSources } = {}) {
    return this.#client.request("POST", "/kb/answer", {
      body: dropUndefined({ question, service, include_sources: includeSources }),
    });
  }

  /** `POST /kb/feedback` (204): whether a retrieval or answer helped; it feeds the ranking. */
  async feedback({ queryId, helpful, comment } = {}) {
    await this.#client.request("POST", "/kb/feedback", { body: dropUndefined({ query_id: queryId, helpful, comment }) });
  }

  /** `GET /kb/documents`: `{documents, pagination}`. */
  async documents({ limit, offset, type, service, q } = {}) {
    return this.#client.request("GET", "/kb/documents", { query: { limit, offset, type, service, q } });
  }

  /** `GET /kb/documents/{id}`: one document with its content. */
  async get(documentId) {
    return this.#client.request("GET", `/kb/documents/${encodeURIComponent(documentId)}`);
  }

  /** `DELETE /kb/documents/{id}` (204). */
  async delete(documentId) {
    await this.#client.request("DELETE", `/kb/documents/${encodeURIComponent(documentId)}`);
  }

  /** `GET /kb/tree/stats`: documents per node of the team's lineage and per type. */
  async treeStats() {
    return this.#client.request("GET", "/kb/tree/stats");
  }

  /** `GET /kb/status`: the search index's engine, counts and state. */
  async status() {
    return this.#client.request("GET", "/kb/status");
  }
}

function dropUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

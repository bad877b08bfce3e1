// Hand-written declarations for @incidentfox/sdk (API.md §8), for both `import` and `require()`. Keep in step with
// index.cjs and errors.cjs.

export declare const VERSION: string;
export declare const DEFAULT_BASE_URL: string;
export declare const TERMINAL_STATUSES: readonly ["completed", "failed", "cancelled"];

export type InvestigationStatus = "pending" | "running" | "completed" | "failed" | "cancelled";
export type TriggerSource = "api" | "alertmanager" | "pagerduty" | "incidentio";
export type Priority = "high" | "medium" | "low";

/** Milliseconds between status polls: 1000, 2000, 4000, 8000, then 10000 for ever. */
export declare function pollDelays(): Generator<number, never, unknown>;
/** Milliseconds before the `attempt`-th retry (0-based): between half and all of 500 × 2^attempt, capped at 8000. */
export declare function backoffMs(attempt: number, random?: () => number): number;

// ---------------------------------------------------------------------------------------------------------------
// Bodies

export interface Attachment {
  name: string;
  source?: string;
  content: string;
}

export interface InvestigationContext {
  service?: string;
  namespace?: string;
  related_alert?: string;
  hint?: string;
  environment?: "prod" | "staging" | "dev";
  severity?: Priority;
  /** `15m`, `1h`, `24h`, … at most 30 days. */
  time_window?: string;
  attachments?: Attachment[];
  /** Unknown keys are kept and passed to the agent. */
  [key: string]: unknown;
}

export interface RootCause {
  description: string;
  /** 0–100. */
  confidence: number;
  /** Each starts with `[tool:<name>]` or `[attachment:<name>]`. */
  evidence: string[];
}

export interface TimelineEvent {
  timestamp: string;
  event: string;
}

export interface Recommendation {
  priority: Priority;
  action: string;
}

export interface InvestigationResult {
  summary: string;
  root_cause: RootCause;
  timeline: TimelineEvent[];
  affected_systems: string[];
  recommendations: Recommendation[];
  [key: string]: unknown;
}

export interface Progress {
  current_step: string;
  steps_completed: number;
  steps_total: number;
}

export interface InvestigationErrorInfo {
  code: "timeout" | "data_source_unavailable" | "llm_unavailable" | "invalid_attachment" | "configuration_error" | "internal_error" | string;
  message: string;
}

/** The fields a status body (API.md §4.2) or an accepted body (202) may carry, in the API's snake_case. */
export interface InvestigationBody {
  investigation_id: string;
  status: InvestigationStatus;
  created_at: string;
  agent?: string;
  message?: string;
  trigger_source?: TriggerSource;
  /** Accepted (202) bodies only. */
  poll_url?: string;
  started_at?: string | null;
  elapsed_seconds?: number;
  progress?: Progress;
  cancel_requested?: boolean;
  result?: InvestigationResult;
  tools_used?: string[];
  completed_at?: string;
  duration_seconds?: number;
  error?: InvestigationErrorInfo;
  failed_at?: string;
  cancelled_at?: string;
  [key: string]: unknown;
}

/** A status body as the API sent it, plus getters that read from `result` (null until completed). */
export declare class Investigation implements InvestigationBody {
  constructor(body: InvestigationBody);
  investigation_id: string;
  status: InvestigationStatus;
  created_at: string;
  [key: string]: unknown;
  /** `investigation_id`. */
  readonly id: string | null;
  /** True once `completed`, `failed` or `cancelled`. */
  readonly done: boolean;
  readonly summary: string | null;
  readonly rootCause: RootCause | null;
  readonly timeline: TimelineEvent[] | null;
  readonly affectedSystems: string[] | null;
  readonly recommendations: Recommendation[] | null;
}

/** Options every method takes next to its own. */
export interface CallOptions {
  /** Aborts the request, the waits between retries and any polling: rejects with RequestAbortedError. */
  signal?: AbortSignal;
  /** This call's timeout in milliseconds (default: the client's). */
  timeoutMs?: number;
  /** Extra headers for this call, e.g. your own `X-Request-ID`. */
  headers?: Record<string, string>;
}

/** What the last answer said besides its body. */
export interface ResponseMeta {
  status: number;
  /** `X-Request-ID`. */
  requestId: string | null;
  /** `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix seconds). */
  rateLimit: { limit: number | null; remaining: number | null; reset: number | null };
  /** `Idempotent-Replayed: true`: an idempotent start returned the original run. */
  idempotentReplayed: boolean;
  /** How many attempts the call took (retries included). */
  attempts: number;
  headers: Record<string, string>;
}

export interface InvestigationListItem {
  investigation_id: string;
  status: InvestigationStatus;
  agent: string;
  /** The first 100 characters, plus `...` when longer. */
  message: string;
  created_at: string;
  [key: string]: unknown;
}

export interface Pagination {
  total: number;
  limit: number;
  offset: number;
}

export interface InvestigationPage {
  investigations: InvestigationListItem[];
  pagination: Pagination;
}

export interface ListOptions extends CallOptions {
  /** 1–100, default 20. */
  limit?: number;
  offset?: number;
  /** One status, or several (sent comma-separated). */
  status?: InvestigationStatus | InvestigationStatus[] | string;
  agent?: string;
  /** Inclusive, on `created_at`. */
  since?: string | Date;
  /** Exclusive, on `created_at`. */
  until?: string | Date;
  /** Case-insensitive substring of the message, ≤ 200 characters. */
  q?: string;
}

export interface WaitOptions {
  /** Give up (WaitTimeoutError) after this long; the investigation keeps running. Default: wait for ever. */
  timeoutMs?: number;
  /** Sees every poll's status. */
  onProgress?: (investigation: Investigation) => void | Promise<void>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface IterateOptions extends Omit<ListOptions, "limit" | "offset"> {
  /** Items per request, default 100. */
  pageSize?: number;
}

export interface InvestigateOptions extends CallOptions {
  message: string;
  /** Default `planner`. */
  agent?: string;
  context?: InvestigationContext;
  /** Default true: resolve once completed, failed or cancelled. False: resolve the accepted (202) body. */
  wait?: boolean;
  /** Server-side deadline in seconds, 10–1800. */
  timeout?: number;
  /** 1–100. */
  maxTurns?: number;
  /** Sent as `Idempotency-Key` (default: a fresh one, so retries are safe): the same key and body within 24 h
   * return the original investigation. */
  idempotencyKey?: string;
  /** Bounds the client's wait (WaitTimeoutError); the run itself is bounded by `timeout`. */
  waitTimeoutMs?: number;
  /** Sees every poll's status while waiting. */
  onProgress?: (investigation: Investigation) => void | Promise<void>;
}

/** The merged team config (API.md §5.2), secrets masked. */
export interface EffectiveConfig {
  team_name: string;
  org_id: string;
  team_node_id: string;
  slack_channel?: string | null;
  slack_group_to_ping?: string | null;
  mcp_servers?: Array<string | { name: string; url: string; auth?: string }>;
  a2a_agents?: unknown[];
  agents?: Record<string, Record<string, unknown>>;
  tools?: Record<string, Record<string, unknown>>;
  feature_flags?: Record<string, boolean>;
  llm?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface RawConfig {
  lineage: string[];
  version: number;
  configs: Record<string, Record<string, unknown>>;
}

/** 200: the patch was applied. */
export interface ConfigApplied {
  message: string;
  version: number;
  /** Sorted dotted paths; empty for a no-op. */
  changed_fields: string[];
  effective_config: EffectiveConfig;
}

/** 202: the patch is held for approval; nothing is applied yet. */
export interface ConfigPendingApproval {
  message: string;
  change_request_id: string;
  status: "pending_approval";
  approvers: string[];
  changes: Record<string, { old: unknown; new: unknown }>;
}

export type ConfigUpdateResult = ConfigApplied | ConfigPendingApproval;

export interface Agent {
  name: string;
  description: string;
  enabled: boolean;
  builtin: boolean;
  tools: string[];
}

export interface Me {
  role: "team" | "admin" | "user";
  auth_kind: "team_token" | "admin_token" | "oidc_jwt" | "session";
  org_id: string;
  team_node_id: string | null;
  can_write: boolean;
  permissions: string[];
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------------------------
// Client

export interface ClientOptions {
  /** A team token (`ift_…`), an org-admin token (`ifa_…`) or an OIDC JWT. Default: INCIDENTFOX_API_KEY, then INCIDENTFOX_TOKEN. */
  token?: string;
  /** Default: INCIDENTFOX_BASE_URL, else `https://api.incidentfox.ai/api/v1`. */
  baseUrl?: string;
  /** Sent as `X-Team-Id`: needed by org-admin tokens and by OIDC users with several teams. */
  teamId?: string;
  /** Retries of a 429 (after `Retry-After`), and of no answer or a 5xx for calls safe to repeat (GET, HEAD, PUT,
   * DELETE, or a POST with an `Idempotency-Key`), with jittered exponential backoff. Default 3. */
  maxRetries?: number;
  /** Per request. Default 30000. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The jitter's random source (tests). */
  random?: () => number;
}

export interface RequestOptions extends CallOptions {
  query?: Record<string, unknown>;
  body?: unknown;
}

export declare class Investigations {
  get(investigationId: string, options?: CallOptions): Promise<Investigation>;
  list(options?: ListOptions): Promise<InvestigationPage>;
  /** Every matching investigation, newest first, page by page: `for await (const inv of ...iterate())`. */
  iterate(options?: IterateOptions): AsyncGenerator<InvestigationListItem, void, unknown>;
  /** Rejects with ConflictError (409) when the investigation has already finished. */
  cancel(investigationId: string, options?: CallOptions): Promise<Investigation>;
  wait(investigationId: string, options?: WaitOptions): Promise<Investigation>;
  /** Rejects with ConflictError (409) unless the investigation completed. */
  postmortem(investigationId: string, options?: CallOptions & { save?: boolean; markdown?: string }): Promise<Postmortem>;
}

export type DocumentType = "runbook" | "note" | "postmortem";

export interface Postmortem {
  investigation_id: string;
  title: string;
  markdown: string;
  sections: Record<string, unknown>;
  written_by: string | null;
  document_id?: string;
}

export interface TeachOptions extends CallOptions {
  content: string;
  type?: DocumentType;
  title?: string;
  service?: string;
  tags?: string[];
  key?: string;
  nodeId?: string;
}

export interface Taught {
  document_id: string;
  version: number;
  title: string;
  type: DocumentType;
  node_id: string;
  changed: boolean;
}

export interface Passage {
  document_id: string;
  title: string;
  passage: string;
  score: number;
  service: string | null;
  type: DocumentType;
}

export interface Retrieved {
  query_id: string;
  results: Passage[];
}

export interface Answered {
  query_id: string;
  answer: string;
  sources: Passage[];
  written_by: string | null;
}

export interface KnowledgeDocument {
  document_id: string;
  title: string;
  type: DocumentType;
  service: string | null;
  tags: string[];
  key: string;
  node_id: string;
  version: number;
  remediation: string[];
  content?: string;
  [field: string]: unknown;
}

export declare class Knowledge {
  teach(options: TeachOptions): Promise<Taught>;
  retrieve(options: CallOptions & { query: string; service?: string; topK?: number }): Promise<Retrieved>;
  answer(options: CallOptions & { question: string; service?: string; includeSources?: boolean }): Promise<Answered>;
  feedback(options: CallOptions & { queryId: string; helpful: boolean; comment?: string }): Promise<void>;
  documents(
    options?: CallOptions & { limit?: number; offset?: number; type?: DocumentType; service?: string; q?: string },
  ): Promise<{ documents: KnowledgeDocument[]; pagination: Pagination }>;
  iterateDocuments(
    options?: CallOptions & { type?: DocumentType; service?: string; q?: string; pageSize?: number },
  ): AsyncGenerator<KnowledgeDocument, void, unknown>;
  get(documentId: string, options?: CallOptions): Promise<KnowledgeDocument>;
  delete(documentId: string, options?: CallOptions): Promise<void>;
  treeStats(options?: CallOptions): Promise<Record<string, unknown>>;
  status(options?: CallOptions): Promise<Record<string, unknown>>;
}

export interface ConfigAuditEntry {
  version: number;
  changed_at: string;
  changed_by: string;
  change_request_id: string | null;
  /** Dotted path → `{old, new}`. */
  diff: Record<string, { old: unknown; new: unknown }>;
  /** Omitted with `includeFull: false`. */
  full_config?: Record<string, unknown>;
}

export interface ChangeRequest {
  change_request_id: string;
  status: "pending_approval" | "approved" | "rejected";
  requested_by: string;
  requested_at: string;
  changes: Record<string, { old: unknown; new: unknown }>;
}

export declare class Config {
  getEffective(options?: CallOptions): Promise<EffectiveConfig>;
  getRaw(options?: CallOptions): Promise<RawConfig>;
  /** A JSON merge patch: `null` deletes a key so the inherited value shows through. */
  update(patch: Record<string, unknown>, options?: CallOptions): Promise<ConfigUpdateResult>;
  /** Applied changes, newest first. `limit` 1–200 (50). */
  audit(options?: CallOptions & { limit?: number; includeFull?: boolean }): Promise<ConfigAuditEntry[]>;
  /** Change requests; `status` defaults to `pending_approval`. */
  pending(
    options?: CallOptions & { status?: "pending_approval" | "approved" | "rejected" | "all" },
  ): Promise<ChangeRequest[]>;
}

export interface WebhookSecret {
  /** `whsec_…`: pass it to a Standard Webhooks verifier. */
  secret: string;
  created_at: string;
  previous_secret_expires_at: string | null;
}

export type DeliveryOutcome = "success" | "retryable_failure" | "permanent_failure" | "skipped";

export interface WebhookDelivery {
  delivery_id: string;
  webhook_id: string;
  event: string;
  investigation_id: string | null;
  url: string;
  attempt: number;
  attempted_at: string;
  outcome: DeliveryOutcome;
  response_status: number | null;
  error: string | null;
  duration_ms: number | null;
  next_attempt_at: string | null;
}

export interface WebhookTestResult {
  delivery_id: string;
  webhook_id: string;
  url: string;
  success: boolean;
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
}

export declare class Webhooks {
  secret(options?: CallOptions): Promise<WebhookSecret>;
  rotateSecret(options?: CallOptions): Promise<WebhookSecret>;
  test(options?: CallOptions & { url?: string }): Promise<WebhookTestResult>;
  deliveries(
    options?: CallOptions & { limit?: number; offset?: number; investigationId?: string; outcome?: DeliveryOutcome },
  ): Promise<{ deliveries: WebhookDelivery[]; pagination: Pagination }>;
  iterateDeliveries(
    options?: CallOptions & { investigationId?: string; outcome?: DeliveryOutcome; pageSize?: number },
  ): AsyncGenerator<WebhookDelivery, void, unknown>;
}

export interface AlertDelivery {
  received_at: string;
  provider: "alertmanager" | "pagerduty" | "incidentio";
  request_id: string | null;
  status_code: number | null;
  error: string | null;
  received: number;
  started: number;
  alerts: Array<Record<string, unknown>>;
}

export declare class Integrations {
  deliveries(
    options?: CallOptions & { limit?: number; offset?: number; provider?: string },
  ): Promise<{ deliveries: AlertDelivery[]; pagination: Pagination }>;
  iterateDeliveries(
    options?: CallOptions & { provider?: string; pageSize?: number },
  ): AsyncGenerator<AlertDelivery, void, unknown>;
}

export declare class IncidentFoxClient {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  readonly teamId: string | null;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly investigations: Investigations;
  readonly config: Config;
  readonly knowledge: Knowledge;
  readonly webhooks: Webhooks;
  readonly integrations: Integrations;
  /** The last answer's request id, rate limit and attempts (null before the first). */
  lastResponse: ResponseMeta | null;
  investigate(options: InvestigateOptions): Promise<Investigation>;
  investigate(message: string, options?: Omit<InvestigateOptions, "message">): Promise<Investigation>;
  agents(options?: CallOptions): Promise<Agent[]>;
  me(options?: CallOptions): Promise<Me>;
  /** One API call: the parsed body, or a rejection with the error's class (retried as `maxRetries` says). */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

export type ErrorCode =
  | "invalid_request"
  | "validation_error"
  | "invalid_field"
  | "unauthorized"
  | "token_expired"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "server_error"
  | "network_error"
  | "request_timeout"
  | "aborted"
  | "invalid_response"
  | "http_error";

export interface IncidentFoxErrorOptions {
  code?: ErrorCode | string | null;
  status?: number | null;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
  field?: string | null;
  retryAfter?: number | null;
  cause?: unknown;
}

export declare class IncidentFoxError extends Error {
  constructor(message: string, options?: IncidentFoxErrorOptions);
  code: ErrorCode | string | null;
  /** The HTTP status; null when no answer arrived. */
  status: number | null;
  /** `req_…`: quote it in support requests. */
  requestId: string | null;
  details: Record<string, unknown> | null;
  field: string | null;
  /** Seconds (429 only). */
  retryAfter: number | null;
}

export declare class InvalidRequestError extends IncidentFoxError {}
export declare class MethodNotAllowedError extends InvalidRequestError {}
export declare class UnsupportedMediaTypeError extends InvalidRequestError {}
export declare class ValidationError extends IncidentFoxError {}
export declare class InvalidFieldError extends ValidationError {}
export declare class AuthenticationError extends IncidentFoxError {}
export declare class TokenExpiredError extends AuthenticationError {}
export declare class PermissionDeniedError extends IncidentFoxError {}
export declare class NotFoundError extends IncidentFoxError {}
export declare class ConflictError extends IncidentFoxError {}
export declare class PayloadTooLargeError extends IncidentFoxError {}
export declare class RateLimitError extends IncidentFoxError {}
export declare class ServerError extends IncidentFoxError {}
/** No HTTP answer: DNS, connection refused or reset, TLS. */
export declare class NetworkError extends IncidentFoxError {}
/** No answer within `timeoutMs`. */
export declare class RequestTimeoutError extends NetworkError {}
/** The call's AbortSignal fired; `cause` is its reason. Never retried. */
export declare class RequestAbortedError extends IncidentFoxError {}

/** The client stopped waiting; the investigation keeps running on the server. Not an IncidentFoxError. */
export declare class WaitTimeoutError extends Error {
  constructor(message: string, options?: { investigationId?: string | null; investigation?: Investigation | null });
  investigationId: string | null;
  investigation: Investigation | null;
}

export declare const ERRORS_BY_CODE: Readonly<Record<string, typeof IncidentFoxError>>;
export declare const CODES_BY_STATUS: Readonly<Record<number, string>>;
export declare function parseRetryAfter(value: string | null | undefined, now?: number): number | null;
export declare function errorFromResponse(
  status: number,
  body: unknown,
  headers?: { get(name: string): string | null },
): IncidentFoxError;

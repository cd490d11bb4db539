// The Prometheus metric names and label sets every process exposes, in one place: the metrics
// (prom-client registrations) and the SLO rules generator (ops/slo) both read them, so a rename
// breaks the build instead of silently emptying an alert.
//
// Label values are closed sets (regions, channels, reasons, codes); never a number, a text or
// a tenant's secret.

export interface MetricName<L extends readonly string[]> {
  readonly name: string;
  readonly labels: L;
}

const metric = <const L extends readonly string[]>(name: string, labels: L): MetricName<L> => ({
  name,
  labels,
});

/** Counter. outcome: delivered|failed; channel: rcs|sms|app|none; fallback_reason: a reason or "none". */
export const MESSAGES_TOTAL = metric('switchboard_messages_total', [
  'region',
  'flow',
  'channel',
  'outcome',
  'fallback_reason',
  'synthetic',
]);
/** Counter: messages whose plan started with RCS. */
export const RCS_ELIGIBLE_TOTAL = metric('switchboard_rcs_eligible_total', ['region', 'synthetic']);
/** Counter: of the RCS-eligible, those not delivered over RCS or with RCS trouble (the guard's measure). */
export const RCS_FALLBACK_TOTAL = metric('switchboard_rcs_fallback_total', ['region', 'synthetic']);
/** Histogram (seconds): enqueue → stage; stage: accepted|delivered. */
export const DELIVERY_LATENCY_SECONDS = metric('switchboard_delivery_latency_seconds', [
  'region',
  'channel',
  'stage',
]);
/** Histogram (seconds): send → delivery receipt. */
export const RECEIPT_LATENCY_SECONDS = metric('switchboard_receipt_latency_seconds', ['channel']);
/** Counter: requests to the delivery endpoints (RBM webhook, key directory, media upload, shortlink pages); only those are counted, so all of it is the SLI. status: the HTTP status code. */
export const HTTP_REQUESTS_TOTAL = metric('switchboard_http_requests_total', ['process', 'route', 'status']);
/** Counter: routing control plane decisions (prepareDelivery); result: ok|error. */
export const ROUTING_DECISIONS_TOTAL = metric('switchboard_routing_decisions_total', ['region', 'result']);
/** Counter: requests to the RCS hub; status is the HTTP status or "error" for no answer. */
export const RCS_HUB_REQUESTS_TOTAL = metric('switchboard_rcs_hub_requests_total', [
  'region',
  'op',
  'status',
]);
/** Counter; result: hit|miss|stale|error. */
export const CAPABILITY_LOOKUPS_TOTAL = metric('switchboard_capability_lookups_total', ['region', 'result']);
/** Counter: SMSC throttling answers (ESME_RTHROTTLED). */
export const SMPP_THROTTLES_TOTAL = metric('switchboard_smpp_throttles_total', ['region']);
/** Gauge: submit_sm PDUs awaiting their response. */
export const SMPP_WINDOW_IN_USE = metric('switchboard_smpp_window_in_use', ['region']);
/** Gauge: the configured SMPP window. */
export const SMPP_WINDOW_SIZE = metric('switchboard_smpp_window_size', ['region']);
/** Counter: MLS / key negotiation failures by error code. */
export const E2EE_FAILURES_TOTAL = metric('switchboard_e2ee_failures_total', ['region', 'code']);
/** Gauge: 1 while the rollout guard throttles RCS in the region. */
export const GUARD_THROTTLED = metric('switchboard_guard_throttled', ['region']);
/** Gauge (read from PostgreSQL on scrape): 1 if the latest probe of the region, carrier and capability was ok, else 0. */
export const PROBE_SUCCESS = metric('switchboard_probe_success', ['region', 'carrier', 'capability']);
/** Gauge (read from PostgreSQL on scrape): Unix time of the last ok probe; 0 when none is recorded. */
export const PROBE_LAST_SUCCESS_TIMESTAMP_SECONDS = metric(
  'switchboard_probe_last_success_timestamp_seconds',
  ['region', 'carrier', 'capability'],
);
/** Counter: synthetic probe messages by result (ok|fallback|failed|timeout), counted once each. */
export const PROBE_RUNS_TOTAL = metric('switchboard_probe_runs_total', [
  'region',
  'carrier',
  'capability',
  'result',
]);
/** Histogram (seconds): a delivered probe message, workflow start to final receipt. */
export const PROBE_LATENCY_SECONDS = metric('switchboard_probe_latency_seconds', [
  'region',
  'carrier',
  'capability',
]);
/** Histogram (seconds): the worker's MLS negotiation and encryption for an rcs-e2ee probe's message. */
export const PROBE_E2EE_NEGOTIATION_SECONDS = metric('switchboard_probe_e2ee_negotiation_seconds', [
  'region',
  'carrier',
]);
/** Gauge (read from PostgreSQL on scrape): receipts in the inbox due for their workflow, not yet delivered. */
export const RECEIPT_INBOX_DEPTH = metric('switchboard_receipt_inbox_depth', []);
/** Gauge (read from PostgreSQL on scrape): age of the oldest of those; 0 when there is none. */
export const RECEIPT_INBOX_OLDEST_AGE_SECONDS = metric('switchboard_receipt_inbox_oldest_age_seconds', []);

// Added with the metrics themselves (metrics/): the rest of the list.

/** Histogram (seconds): the sender app's MLS negotiation and encryption (outcome's e2eeNegotiationMs). */
export const E2EE_NEGOTIATION_SECONDS = metric('switchboard_e2ee_negotiation_seconds', []);
/** Counter: SMPP bind attempts; result: bound|refused|no_answer. */
export const SMPP_BINDS_TOTAL = metric('switchboard_smpp_binds_total', ['region', 'result']);
/** Gauge: SMPP sessions bound right now (1 per bind; 2 with separate transmitter and receiver). */
export const SMPP_BOUND_SESSIONS = metric('switchboard_smpp_bound_sessions', ['region']);
/** Histogram (seconds): submit_sm → submit_sm_resp. */
export const SMPP_SUBMIT_SECONDS = metric('switchboard_smpp_submit_seconds', ['region']);
/** Gauge: the guard's last measured fallback rate (0–1). */
export const GUARD_FALLBACK_RATE = metric('switchboard_guard_fallback_rate', ['region']);
/** Gauge: 1 for the region's current rollout phase, 0 for the others. */
export const ROLLOUT_PHASE = metric('switchboard_rollout_phase', ['region', 'phase']);
/** Gauge: the region's current rollout config version (0 = built-in default). */
export const ROLLOUT_CONFIG_VERSION = metric('switchboard_rollout_config_version', ['region']);

/** Bucket boundaries of DELIVERY_LATENCY_SECONDS: 0.3 and 1 must stay, the RCS latency SLOs read them. */
export const DELIVERY_LATENCY_BUCKETS_SECONDS = [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 60];
/** Bucket boundaries of RECEIPT_LATENCY_SECONDS: 30 must stay, the receipt latency SLO reads it. */
export const RECEIPT_LATENCY_BUCKETS_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300];

// Status callbacks (channels/callbacks/): never a tenant, a URL or a secret in a label.

/** Counter: callback POSTs; result: sent (2xx) | failed (retried later) | undeliverable (budget spent) | refused (SSRF rule). */
export const CALLBACKS_TOTAL = metric('switchboard_callbacks_total', ['result']);
/** Gauge: status events not yet acknowledged or given up on (the outbox depth). */
export const CALLBACK_OUTBOX_DEPTH = metric('switchboard_callback_outbox_depth', []);

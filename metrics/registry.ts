// The one module that knows prom-client. Each process builds one SwitchboardMetrics (its own
// Registry: nothing leaks between processes or tests through prom-client's global default) and
// hands adapters the narrow meters they declare (channels/, store/ and activities/ never import
// prom-client). Names and label sets come from ops/metric-names.ts, which the SLO rules read too.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricName } from '../ops/metric-names';
import * as names from '../ops/metric-names';

/** Seconds; RCS targets are 300 ms median and 1 s p95, SMS receipts take seconds. */
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300];
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Label values are closed sets, but some come from outside (an SMSC's or a phone's error code):
 * anything that is not a short identifier, or holds a run of digits as long as a number's, is
 * reported as "other". So no label can ever carry a phone number, a text or a secret.
 */
const SAFE_LABEL = /^[A-Za-z_/][A-Za-z0-9_.:/-]{0,63}$/;
const DIGIT_RUN = /\d{4,}/;
export function labelValue(value: string | number | null | undefined, none = 'none'): string {
  if (value === null || value === undefined || value === '') return none;
  const text = String(value);
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < 1000 ? text : 'other';
  return SAFE_LABEL.test(text) && !DIGIT_RUN.test(text) ? text : 'other';
}

type Labels<M> = M extends MetricName<infer L> ? L[number] : never;

export class SwitchboardMetrics {
  readonly registry = new Registry();

  constructor(readonly processName: string) {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_process_' });
  }

  private counter<M extends MetricName<readonly string[]>>(m: M, help: string): Counter<Labels<M>> {
    return new Counter({ name: m.name, help, labelNames: m.labels, registers: [this.registry] });
  }

  private histogram<M extends MetricName<readonly string[]>>(
    m: M,
    help: string,
    buckets = LATENCY_BUCKETS,
  ): Histogram<Labels<M>> {
    return new Histogram({ name: m.name, help, labelNames: m.labels, buckets, registers: [this.registry] });
  }

  /** A gauge read when Prometheus scrapes (`collect` sets its values). */
  gauge<M extends MetricName<readonly string[]>>(
    m: M,
    help: string,
    collect?: (g: Gauge<Labels<M>>) => void | Promise<void>,
  ): Gauge<Labels<M>> {
    return new Gauge<Labels<M>>({
      name: m.name,
      help,
      labelNames: m.labels as readonly Labels<M>[],
      registers: [this.registry],
      ...(collect
        ? {
            collect(this: Gauge<Labels<M>>) {
              return collect(this);
            },
          }
        : {}),
    });
  }

  readonly messages = this.counter(names.MESSAGES_TOTAL, 'Messages by final outcome, counted once each.');
  readonly rcsEligible = this.counter(
    names.RCS_ELIGIBLE_TOTAL,
    'Finished messages whose plan started with RCS.',
  );
  readonly rcsFallback = this.counter(
    names.RCS_FALLBACK_TOTAL,
    'RCS-eligible messages not delivered over RCS or that met RCS errors (the guard measure).',
  );
  readonly deliveryLatency = this.histogram(
    names.DELIVERY_LATENCY_SECONDS,
    'Submission (submittedAt) to the carrier accepting the message / to its delivery receipt.',
    // The SLO rules read these boundaries (ops/slo/).
    names.DELIVERY_LATENCY_BUCKETS_SECONDS,
  );
  readonly receiptLatency = this.histogram(
    names.RECEIPT_LATENCY_SECONDS,
    'First send to delivery receipt.',
    names.RECEIPT_LATENCY_BUCKETS_SECONDS,
  );
  readonly e2eeNegotiation = this.histogram(
    names.E2EE_NEGOTIATION_SECONDS,
    'The sender app’s MLS key negotiation and encryption, per message.',
    FAST_BUCKETS,
  );
  readonly e2eeFailures = this.counter(
    names.E2EE_FAILURES_TOTAL,
    'MLS failures reported by phones, by code.',
  );
  readonly httpRequests = this.counter(
    names.HTTP_REQUESTS_TOTAL,
    'HTTP requests by route pattern and status.',
  );
  readonly routingDecisions = this.counter(names.ROUTING_DECISIONS_TOTAL, 'prepareDelivery calls by result.');
  readonly capabilityLookups = this.counter(names.CAPABILITY_LOOKUPS_TOTAL, 'Capability cache lookups.');
  readonly rcsHubRequests = this.counter(names.RCS_HUB_REQUESTS_TOTAL, 'Requests to the RCS hub.');
  readonly smppBinds = this.counter(names.SMPP_BINDS_TOTAL, 'SMPP bind attempts by result.');
  readonly smppThrottles = this.counter(names.SMPP_THROTTLES_TOTAL, 'SMSC throttling answers.');
  readonly callbacks = this.counter(names.CALLBACKS_TOTAL, 'Status callback POSTs by result.');
  readonly smppSubmit = this.histogram(names.SMPP_SUBMIT_SECONDS, 'submit_sm to its response.', FAST_BUCKETS);
  readonly probeRuns = this.counter(names.PROBE_RUNS_TOTAL, 'Synthetic probe messages by result.');
  readonly probeLatency = this.histogram(
    names.PROBE_LATENCY_SECONDS,
    'Delivered synthetic probe messages: workflow start to final receipt.',
  );
  readonly probeE2eeNegotiation = this.histogram(
    names.PROBE_E2EE_NEGOTIATION_SECONDS,
    'The worker’s MLS negotiation and encryption for an E2EE probe message.',
    FAST_BUCKETS,
  );

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

// The metrics of one process: its registry, the meters adapters take, and its /metrics server.
export { SwitchboardMetrics, labelValue } from './registry';
export { deliveryMeter, routingMeter } from './delivery-meter';
export { channelMeters, watchSmppGateways } from './channel-meters';
export type { ChannelMeters, SmppState } from './channel-meters';
export { watchRolloutState } from './state-gauges';
export type { RolloutStateSource } from './state-gauges';
export { httpMeter, startMetricsServer } from './server';
export { metricsSnapshot } from './snapshot';
export type { MetricSample, MetricsSnapshot } from './snapshot';
export { callbackMeter } from './callback-meter';
export { probeMeter, watchProbeHealth } from './probe-meter';
export type { ProbeStateSource } from './probe-meter';
export { watchReceiptInbox } from './inbox-gauges';

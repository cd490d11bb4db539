// What the worker's codec hands on in place of a payload it did not seal. Anyone who reaches the
// Temporal frontend can start a workflow or send a signal with plain JSON; the codec never
// decodes such a payload into a value the workflow would act on, it replaces it with this marker,
// which every workflow input and signal handler refuses.

export const REFUSED_PAYLOAD_KEY = '$switchboardRefused';

export type RefusalCause = 'UNSEALED_PAYLOAD';

export type RefusedPayload = { [REFUSED_PAYLOAD_KEY]: RefusalCause };

export function isRefusedPayload(value: unknown): value is RefusedPayload {
  return typeof value === 'object' && value !== null && REFUSED_PAYLOAD_KEY in value;
}

/** The failure type a workflow fails with when its input was refused (never retried). */
export const REQUEST_REFUSED = 'DeliveryRequestRefused';

import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import { REQUEST_REFUSED, isRefusedPayload } from '../domain/refused-payload';

/** A workflow's input as its codec decoded it: a payload it did not seal ends the workflow, refused. */
export function sealedInput<T>(input: T): T {
  if (isRefusedPayload(input)) {
    throw ApplicationFailure.create({
      type: REQUEST_REFUSED,
      message: 'workflow input refused: not sealed by the worker codec',
      nonRetryable: true,
      details: [{ field: 'input', reason: 'UNSEALED_PAYLOAD' }],
    });
  }
  return input;
}

/**
 * A signal's argument, if it is sealed and well formed; otherwise it is dropped and logged by
 * name and reason only (its content may be anything, a number or a text included).
 */
export function acceptedSignal<T>(
  signal: string,
  arg: unknown,
  wellFormed: (arg: unknown) => arg is T,
): arg is T {
  if (isRefusedPayload(arg)) {
    log.warn('signal refused', { signal, reason: 'UNSEALED_PAYLOAD' });
    return false;
  }
  if (!wellFormed(arg)) {
    log.warn('signal refused', { signal, reason: 'MALFORMED' });
    return false;
  }
  return true;
}

/** The worker refused the request (activities/routing.ts): the workflow fails with that refusal. */
export function rethrowRefusal(err: unknown): never {
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === REQUEST_REFUSED
  ) {
    throw err.cause;
  }
  throw err;
}

// Typed failures of the RCS hub. Activities map them to ApplicationFailure types of the same
// name; the workflow's retry decisions name those types.

import { FailureType } from '../../domain/failures';

export class RcsTransientError extends Error {
  override readonly name = FailureType.RcsTransient;
  constructor(
    readonly code: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(`RCS hub transient failure (${code})`);
  }
}

export class RcsPermanentError extends Error {
  override readonly name = FailureType.RcsPermanent;
  constructor(readonly code: string) {
    super(`RCS hub rejected the request (${code})`);
  }
}

export class RcsWebhookSignatureError extends Error {
  override readonly name = 'RcsWebhookSignatureError';
  /** Never carries a phone number or message text, so a receiver may log it. */
  constructor(readonly reason: string) {
    super(`RCS webhook rejected: ${reason}`);
  }
}

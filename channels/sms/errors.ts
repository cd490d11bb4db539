// Typed failures of the SMPP path. Activities map them to ApplicationFailure types of the same
// name; the SMS activity's retry policy names SmsPermanentError as not retryable.

import { FailureType } from '../../domain/failures';

export class SmsTransientError extends Error {
  override readonly name = FailureType.SmsTransient;
  constructor(readonly code: string) {
    super(`SMSC transient failure (${code})`);
  }
}

export class SmsPermanentError extends Error {
  override readonly name = FailureType.SmsPermanent;
  constructor(readonly code: string) {
    super(`SMSC rejected the message (${code})`);
  }
}

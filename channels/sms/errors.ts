// Typed failures of the SMPP path. Activities map them to ApplicationFailure types of the same
// name; the SMS activity's retry policy names SmsPermanentError as not retryable.

export class SmsTransientError extends Error {
  override readonly name = 'SmsTransientError';
  constructor(readonly code: string) {
    super(`SMSC transient failure (${code})`);
  }
}

export class SmsPermanentError extends Error {
  override readonly name = 'SmsPermanentError';
  constructor(readonly code: string) {
    super(`SMSC rejected the message (${code})`);
  }
}

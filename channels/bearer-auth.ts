// The shared-bearer-token check of the app-facing API (key directory, media uploads): one token,
// compared in constant time over digests so neither its length nor its prefix leaks.

import { createHash, timingSafeEqual } from 'node:crypto';

const MIN_TOKEN_LENGTH = 16;

export type BearerRefusal = 'missing' | 'wrong';

/** A checker of `Authorization` headers against `Bearer <token>`: null when accepted. */
export function bearerCheck(
  token: string,
  what: string,
): (authorization: string | undefined) => BearerRefusal | null {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`${what} bearer token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = digest(`Bearer ${token}`);
  return (authorization) => {
    if (authorization === undefined) return 'missing';
    return timingSafeEqual(digest(authorization), expected) ? null : 'wrong';
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

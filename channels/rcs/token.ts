// Bearer tokens for the hub. The client only ever asks "what token now?", so a static sandbox
// token and a Google service-account OAuth2 flow plug in the same way.

/** Resolves the bearer token for the next request. Must never log or throw the token itself. */
export type TokenProvider = () => Promise<string>;

export function staticTokenProvider(token: string): TokenProvider {
  return () => Promise.resolve(token);
}

/**
 * What an OAuth2 service-account flow (JWT bearer grant for the
 * `https://www.googleapis.com/auth/rcsbusinessmessaging` scope) has to supply. Not implemented
 * here: production wires one in, the sandbox never needs it.
 */
export interface AccessTokenSource {
  fetchAccessToken(): Promise<{ token: string; expiresAt: number }>;
}

/**
 * Caches a fetched token until `refreshSkewMs` before it expires, and lets concurrent callers
 * share one refresh so a burst of sends does not stampede the token endpoint.
 */
export function cachingTokenProvider(
  source: AccessTokenSource,
  refreshSkewMs = 60_000,
  now: () => number = Date.now,
): TokenProvider {
  let current: { token: string; expiresAt: number } | null = null;
  let inFlight: Promise<string> | null = null;
  return () => {
    if (current && current.expiresAt - refreshSkewMs > now()) return Promise.resolve(current.token);
    inFlight ??= source
      .fetchAccessToken()
      .then((fetched) => {
        current = fetched;
        return fetched.token;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
}

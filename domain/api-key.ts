// What an API key is, shared by the store that keeps its hash, the CLI that shows it once and
// the REST API that checks it. Plain constants and a parser only.

/** What a key may do: start messages (and upload their files), read messages. */
export const API_SCOPES = ['send', 'read'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** `sb_live_<keyId>_<secret>`: the id (public, in listings) finds the row; the secret is checked. */
export const API_KEY_PREFIX = 'sb_live_';
export const API_KEY_ID_PATTERN = /^[0-9a-f]{24}$/;
const API_KEY_PATTERN = /^sb_live_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$/;

export interface PresentedApiKey {
  keyId: string;
  secret: string;
}

/** The parts of a presented key, or null when it is not shaped like one of ours. */
export function parseApiKey(value: string): PresentedApiKey | null {
  const match = API_KEY_PATTERN.exec(value);
  return match ? { keyId: match[1]!, secret: match[2]! } : null;
}

export function formatApiKey(keyId: string, secret: string): string {
  return `${API_KEY_PREFIX}${keyId}_${secret}`;
}

/** Parses `send,read`; throws naming what was expected. */
export function parseScopes(value: string): ApiScope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = scopes.find((s) => !(API_SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad !== undefined)
    throw new RangeError(`comma-separated scopes, each one of ${API_SCOPES.join(', ')}`);
  return [...new Set(scopes)] as ApiScope[];
}

import type { Env } from './schema';

/**
 * The sandbox's credentials are public (they are in this repository), so outside the sandbox a
 * secret still holding one is no secret at all: anyone could sign RBM events or bind to the SMSC
 * as us. A missing CODEC_KEYS or AUDIT_HASH_KEY would fall back to a key file made on this one
 * machine, which other workers and the next container do not share.
 */
const PUBLIC_DEFAULTS = {
  RCS_WEBHOOK_CLIENT_TOKEN: 'sandbox-client-token',
  RCS_HUB_TOKEN: 'sandbox-token',
  SMPP_PASSWORD: 'sandbox',
} as const;

const REQUIRED_OUTSIDE_SANDBOX = ['CODEC_KEYS', 'AUDIT_HASH_KEY'] as const;

/** Each variable that, with SANDBOX=false, still holds a sandbox default or is unset; empty when all are set. */
export function sandboxSecretsInUse(env: Env): string[] {
  if (env.SANDBOX) return [];
  const offending: string[] = [];
  for (const [name, publicValue] of Object.entries(PUBLIC_DEFAULTS)) {
    if (env[name as keyof typeof PUBLIC_DEFAULTS] === publicValue) offending.push(name);
  }
  for (const name of REQUIRED_OUTSIDE_SANDBOX) if (!env[name]) offending.push(name);
  for (const [region, endpoint] of Object.entries(env.REGION_ENDPOINTS)) {
    if (endpoint.rcsHubToken === PUBLIC_DEFAULTS.RCS_HUB_TOKEN)
      offending.push(`REGION_ENDPOINTS.${region}.rcsHubToken`);
    if (endpoint.smppPassword === PUBLIC_DEFAULTS.SMPP_PASSWORD)
      offending.push(`REGION_ENDPOINTS.${region}.smppPassword`);
  }
  return offending;
}

import { envSchema } from './schema';
import type { Env } from './schema';
import { sandboxSecretsInUse } from './sandbox-defaults';

export type { Env };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the environment once; errors name every bad variable and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const publicSecrets = sandboxSecretsInUse(parsed.data);
  if (publicSecrets.length) {
    throw new ConfigError(
      `SANDBOX=false, yet these secrets hold their public sandbox default or are unset:\n${publicSecrets
        .map((name) => `  ${name}: set a secret of your own`)
        .join('\n')}`,
    );
  }
  return parsed.data;
}

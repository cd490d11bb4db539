import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import { existsSync } from 'node:fs';
import { ConfigError } from './index';
import type { Env } from './schema';

/** What both the client's Connection and the worker's NativeConnection take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** The variables @temporalio/envconfig reads, as validated by config/schema.ts. */
const ENVCONFIG_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
] as const satisfies ReadonlyArray<keyof Env>;

const TLS_PATHS = [
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
] as const;

type ConnectionEnv = Pick<Env, (typeof ENVCONFIG_VARIABLES)[number] | 'TEMPORAL_DEV_PORT'>;

/**
 * How every Switchboard process and the CLI connect to Temporal, as every Temporal app does:
 * @temporalio/envconfig reads the profile (TEMPORAL_PROFILE, default "default") from the TOML
 * file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml, when it exists) and
 * lays the TEMPORAL_* variables over it. So one build reaches the dev server, the mTLS cluster
 * or Temporal Cloud. With no address anywhere, it is the local dev server on TEMPORAL_DEV_PORT,
 * in plaintext. Only the validated config is handed to envconfig, never the raw environment.
 */
export function temporalConnectionOptions(env: ConnectionEnv): TemporalConnectionOptions {
  const variables: Record<string, string> = {};
  for (const name of ENVCONFIG_VARIABLES) {
    const value = env[name];
    if (value !== undefined) variables[name] = value;
  }
  // envconfig skips a config file that is not there, and names no variable for a missing cert.
  for (const name of ['TEMPORAL_CONFIG_FILE', ...TLS_PATHS] as const) {
    const path = env[name];
    if (path !== undefined && !existsSync(path)) throw new ConfigError(`${name}: no file at ${path}`);
  }
  let connectionOptions;
  try {
    ({ connectionOptions } = loadClientConnectConfig({ overrideEnvVars: variables }));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Temporal connection (TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE): ${why}`);
  }
  if (!connectionOptions.address) return { address: `127.0.0.1:${env.TEMPORAL_DEV_PORT}` };
  return {
    address: connectionOptions.address,
    ...(connectionOptions.tls != null ? { tls: connectionOptions.tls } : {}),
    ...(connectionOptions.apiKey !== undefined ? { apiKey: connectionOptions.apiKey } : {}),
  };
}

/** The same settings aimed at an address already chosen (a dev server this process started). */
export function temporalConnectionTo(env: ConnectionEnv, address: string): TemporalConnectionOptions {
  const configured = temporalConnectionOptions(env);
  return configured.address === address ? configured : { address };
}

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { codecOf, createDataConverter } from '../codec/data-converter';
import { ConfigError } from '../config';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { isLoopbackHost, startCodecServer } from './codec-server';
import type { CodecServerAuth } from './codec-server';

/** Deployments: the UI users' access tokens. The local sandbox alone: one URL token on loopback. */
export function codecServerAuth(env: Env, secrets: Secrets): CodecServerAuth {
  if (env.CODEC_ACCESS_TOKENS) return { mode: 'access-tokens', tokens: env.CODEC_ACCESS_TOKENS.split(',') };
  if (env.SANDBOX && isLoopbackHost(env.CODEC_SERVER_HOST))
    return { mode: 'sandbox-url-token', token: env.CODEC_SERVER_TOKEN ?? deriveKey(secrets, 'codec-server') };
  throw new ConfigError(
    'CODEC_ACCESS_TOKENS: required with SANDBOX=false or a CODEC_SERVER_HOST that is not loopback ' +
      '(the URL-token mode is for the local sandbox only)',
  );
}

/**
 * The codec server for the Web UI. Its token is never handed to the dev server: whatever the UI
 * server is told (`--ui-codec-endpoint`) it serves to anyone on GET /api/v1/settings, and argv is
 * readable in /proc by every local user. In the sandbox the URL with the token goes to a 0600
 * file under DATA_DIR instead, for the operator to paste into the UI's codec setting, which the
 * browser keeps.
 */
export async function startCodecServerForUi(env: Env, secrets: Secrets, dataDir: string) {
  const codecServer = await startCodecServer({
    codec: codecOf(
      createDataConverter({ codecKeys: secrets.codecKeys, activeKeyId: secrets.codecActiveKey }),
    ),
    auth: codecServerAuth(env, secrets),
    host: env.CODEC_SERVER_HOST,
    port: env.CODEC_SERVER_PORT,
    allowedOrigins: [`http://127.0.0.1:${env.TEMPORAL_UI_PORT}`, `http://localhost:${env.TEMPORAL_UI_PORT}`],
  });
  let browserEndpointFile: string | null = null;
  if (codecServer.browserEndpoint) {
    mkdirSync(dataDir, { recursive: true });
    browserEndpointFile = join(dataDir, 'codec-browser-endpoint.txt');
    writeFileSync(browserEndpointFile, `${codecServer.browserEndpoint}\n`, { mode: 0o600 });
    chmodSync(browserEndpointFile, 0o600);
  }
  return { ...codecServer, browserEndpointFile };
}

import { join } from 'node:path';
import { createDataConverter } from '../codec/data-converter';
import { ConfigError, loadConfig } from '../config';
import type { Env } from '../config';
import type { Secrets } from '../config/secrets';
import { dataDir } from '../config/paths';
import { deriveKey, resolveSecrets } from '../config/secrets';
import { HttpKeyDirectory } from '../e2ee/key-directory-http';
import { keyDirectoryToken } from '../config/key-directory';
import { E2eeSender, loadOrCreateSenderIdentity } from '../e2ee/sender';
import { FileSenderStateStore } from '../e2ee/sender-state-store';
import { lazySealer } from './e2ee-sealing';
import type { MessageSealer } from './e2ee-sealing';
import { fetchEscrowMember } from '../e2ee/escrow-member-http';
import type { EscrowMemberPublic } from '../e2ee/sender';
import { SwitchboardClient } from './switchboard-client';
import { HttpMediaUploader } from './media-uploader';
import { SwitchboardHttpClient } from './http-client';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { ApiKeyPackages, fetchEscrowMemberViaApi } from './api-key-packages';
import type { KeyPackageSource } from '../e2ee/key-directory';

const DEFAULT_TENANT = 'default';

/** The CLI as a sending app: one MLS sender per tenant, its state under DATA_DIR, encrypted at rest. */
/** `directory`: where KeyPackages come from (the key directory with its token, or the REST API with the API key). */
/** Where an app's sender reads KeyPackages and its tenant's escrow member. */
interface SealerSources {
  directory: KeyPackageSource;
  escrowMember(tenant: string): Promise<EscrowMemberPublic | null>;
}

/** Switchboard's key directory, with its shared token (direct mode: the operator's own machine). */
function keyDirectorySources(env: Env, secrets: Secrets): SealerSources {
  const baseUrl = `http://${env.RECEIPTS_HOST}:${env.RECEIPTS_PORT}`;
  const bearerToken = keyDirectoryToken(env, secrets);
  return {
    directory: new HttpKeyDirectory({ baseUrl, bearerToken }),
    escrowMember: (tenant) => fetchEscrowMember({ baseUrl, bearerToken, tenant }),
  };
}

function appSealer(secrets: Secrets, dir: string, sources: SealerSources): MessageSealer {
  // One sending app per tenant, each with its own MLS state; an escrowed tenant's app adds the
  // tenant's escrow member (fetched from Switchboard) to every new group.
  const buildSender = async (tenant: string) => {
    const store = new FileSenderStateStore({
      dir: tenant === DEFAULT_TENANT ? join(dir, 'app-e2ee') : join(dir, 'app-e2ee-tenants', tenant),
      key: Buffer.from(deriveKey(secrets, 'app-e2ee-state'), 'hex'),
    });
    return new E2eeSender({
      directory: sources.directory,
      store,
      identity: await loadOrCreateSenderIdentity(store),
      escrow: await sources.escrowMember(tenant),
    });
  };
  const senders = new Map<string, MessageSealer>();
  const e2ee: MessageSealer = {
    encryptFor(msisdn, plaintext, tenant = DEFAULT_TENANT) {
      let sender = senders.get(tenant);
      if (!sender) {
        sender = lazySealer(() => buildSender(tenant));
        senders.set(tenant, sender);
      }
      return sender.encryptFor(msisdn, plaintext);
    },
  };
  return e2ee;
}

/**
 * A client configured the way the worker is: same env, same codec keys. It also acts as a
 * sending app for E2EE: its MLS state lives under DATA_DIR/app-e2ee, encrypted at rest, and it
 * claims recipients' KeyPackages from the key directory API the worker serves, and uploads
 * messages' files to the same server.
 */
export async function connectFromEnv(env = loadConfig()): Promise<SwitchboardClient> {
  const dir = dataDir(env);
  const secrets = resolveSecrets({ ...env, DATA_DIR: dir });
  const baseUrl = `http://${env.RECEIPTS_HOST}:${env.RECEIPTS_PORT}`;
  const e2ee = appSealer(secrets, dir, keyDirectorySources(env, secrets));
  return SwitchboardClient.connect({
    ...temporalConnectionOptions(env),
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    dataConverter: createDataConverter({ codecKeys: secrets.codecKeys, activeKeyId: secrets.codecActiveKey }),
    messageIdKey: deriveKey(secrets, 'message-id'),
    e2ee,
    media: new HttpMediaUploader({ baseUrl, bearerToken: keyDirectoryToken(env, secrets) }),
  });
}

/**
 * The same app over the REST API (SWITCHBOARD_API_KEY): it needs no Temporal access and no
 * codec keys; its MLS sealing stays here (the sandbox's key directory, local secrets for its state).
 */
export function connectHttpFromEnv(env = loadConfig()): SwitchboardHttpClient {
  if (!env.SWITCHBOARD_API_KEY) throw new ConfigError('SWITCHBOARD_API_KEY: required for the REST API');
  const dir = dataDir(env);
  const secrets = resolveSecrets({ ...env, DATA_DIR: dir });
  const baseUrl = env.SWITCHBOARD_API_URL ?? `http://${env.API_HOST}:${env.API_PORT}`;
  const apiKey = env.SWITCHBOARD_API_KEY;
  return new SwitchboardHttpClient({
    baseUrl,
    apiKey,
    // KeyPackages and the escrow member through the API with the key (the key's tenant's member,
    // whatever tenant name the local state goes by): no key directory token needed to seal.
    e2ee: appSealer(secrets, dir, {
      directory: new ApiKeyPackages({ baseUrl, apiKey }),
      escrowMember: () => fetchEscrowMemberViaApi({ baseUrl, apiKey }),
    }),
  });
}

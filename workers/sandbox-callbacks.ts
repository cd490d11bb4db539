// `npm start` in the sandbox: a callback receiver, and the sandbox tenant's default webhook
// pointing at it (made once; `switchboard webhook set` changes it like any tenant's).
import type { Logger } from 'pino';
import type { Env } from '../config';
import { deriveKey } from '../config/secrets';
import type { Secrets } from '../config/secrets';
import { privateTargetOf } from '../channels/callbacks/callback-transport';
import { startCallbackReceiver } from '../sandbox/callback-receiver';
import type { CallbackReceiver } from '../sandbox/callback-receiver';
import type { Database } from '../store/database';
import { TenantWebhooks } from '../store/tenant-webhooks';

/** The tenant `switchboard send` uses when none is given. */
const SANDBOX_TENANT = 'default';

export async function startSandboxCallbacks(
  env: Env,
  o: { db: Database; secrets: Secrets; logger: Logger },
): Promise<CallbackReceiver> {
  const webhooks = new TenantWebhooks(o.db, deriveKey(o.secrets, 'webhook-secrets'));
  const receiver = await startCallbackReceiver({
    host: env.SANDBOX_HOST,
    port: env.SANDBOX_CALLBACK_PORT,
    secretFor: () => webhooks.secretFor(SANDBOX_TENANT),
    logger: o.logger,
  });
  if (await webhooks.createIfMissing(SANDBOX_TENANT, receiver.url))
    o.logger.info({ tenant: SANDBOX_TENANT, url: receiver.url }, 'sandbox webhook created');
  return receiver;
}

/**
 * The worker's config with the sandbox receiver allowed: it listens on a private address, and
 * callbacks to private addresses are refused; this one target, nothing else of the machine.
 */
export function allowingSandboxReceiver(env: Env, receiver: Pick<CallbackReceiver, 'url'>): Env {
  return {
    ...env,
    CALLBACK_ALLOWED_PRIVATE_TARGETS: [
      ...env.CALLBACK_ALLOWED_PRIVATE_TARGETS,
      privateTargetOf(receiver.url),
    ],
  };
}

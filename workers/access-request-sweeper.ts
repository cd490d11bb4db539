import type { Logger } from 'pino';
import type { AccessRequests } from '../store/access-requests';
import type { AuditLog } from '../store/audit-log';

/**
 * Closes lawful-access requests past their expiry — a workflow terminated (or lost) before it
 * could close its request — erasing their keys, and audits each. Runs now and every `everyMs`.
 */
export function startAccessRequestSweeper(options: {
  requests: Pick<AccessRequests, 'expireStale'>;
  audit: Pick<AuditLog, 'appendHashed' | 'lastSeq'>;
  logger: Logger;
  everyMs: number;
}): { stop(): void } {
  const sweep = async () => {
    for (const { requestId, tenant } of await options.requests.expireStale()) {
      const messageId = `access-${requestId}`;
      await options.audit.appendHashed(
        { tenant, recipientHash: 'lawful-access', region: 'global', flow: 'lawful-access' },
        [
          {
            messageId,
            seq: (await options.audit.lastSeq(messageId)) + 1,
            event: 'access_refused',
            channel: null,
            result: 'refused',
            errorCode: 'expired',
            detail: {},
            occurredAt: new Date().toISOString(),
          },
        ],
      );
      options.logger.warn({ requestId }, 'lawful-access request expired unclosed; its key is erased');
    }
  };
  const run = () => {
    sweep().catch((err: unknown) => options.logger.error({ err }, 'sweeping lawful-access requests failed'));
  };
  run();
  const timer = setInterval(run, options.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

import { condition, sleep } from '@temporalio/workflow';
import { FailureType } from '../domain/failures';
import type { E2eePayload } from '../domain/message';
import { archiveForEscrow, revokeRcs, sendRcs } from './activities-proxy';
import type { DeliveryRun } from './delivery-run';
import { channelFailure } from './step-result';
import type { StepFailure, StepResult } from './step-result';

export interface RcsAttemptOptions {
  /** Critical flow: a copy after the authoritative SMS, never the delivery that counts. */
  supplementary?: boolean;
  /** The app's MLS ciphertext, sent instead of the text. */
  e2ee?: E2eePayload;
}

/** One RCS step: send (retried up to the policy's cap), wait for the receipt, revoke on silence. */
export async function attemptRcs(run: DeliveryRun, options: RcsAttemptOptions = {}): Promise<StepResult> {
  const sentAt = Date.now();
  const sent = await sendWithRetries(run, options);
  if ('delivered' in sent) return sent;
  run.enter('awaiting-rcs-receipt');
  if (!sent.acceptedRecorded) {
    run.audit.add({
      event: 'accepted',
      channel: 'rcs',
      result: 'accepted',
      errorCode: null,
      detail: detailOf(options),
    });
  }
  const events = () => run.receipts.rcsSend(sent.rbmMessageId);
  await run.flush();
  await condition(
    () => events().delivered || events().e2eeFailure !== null || run.receipts.standDown,
    run.policy.rcsReceiptTimeoutMs,
  );
  const { delivered, e2eeFailure } = events();
  if (e2eeFailure && !delivered) return undecryptable(run, e2eeFailure, options);
  if (!delivered && (await revoked(run, options))) {
    const errorCode = run.receipts.standDown ? 'STOOD_DOWN' : 'RECEIPT_TIMEOUT';
    return { delivered: false, reason: 'rcs_receipt_timeout', errorCode, revoked: true };
  }
  // Delivered, or the hub answered "too late" to the revoke: the phone has the message.
  const deliveredAt = Date.now();
  const e2ee: Record<string, boolean> = options.e2ee ? { e2ee: true } : {};
  run.record(
    { channel: 'rcs', result: 'delivered', errorCode: null, ...supplementaryOf(options), ...e2ee },
    {
      event: 'delivered',
      channel: 'rcs',
      result: 'delivered',
      errorCode: null,
      detail: { ...detailOf(options), ...e2ee },
    },
  );
  return { delivered: true, deliveredAt, latencyMs: deliveredAt - sentAt, e2ee: !!options.e2ee };
}

/** The send, retried on transient failures after a backoff (or the hub's Retry-After). */
async function sendWithRetries(
  run: DeliveryRun,
  options: RcsAttemptOptions,
): Promise<{ rbmMessageId: string; acceptedRecorded: boolean } | StepFailure> {
  const { request } = run;
  const e2ee = options.e2ee;
  for (let n = 1; ; n++) {
    run.enter('sending-rcs');
    try {
      run.publish();
      if (e2ee) {
        await archiveForEscrow({
          tenant: request.tenant,
          messageId: request.messageId,
          ciphertext: e2ee.ciphertext,
          ...(e2ee.welcome ? { welcome: e2ee.welcome } : {}),
        });
      }
      const audit = run.audit.handOff('rcs', detailOf(options));
      const sent = await sendRcs({
        ...run.messageRef,
        workflowId: run.workflowId,
        text: run.text,
        ...(e2ee
          ? { e2ee: { ciphertext: e2ee.ciphertext, ...(e2ee.welcome ? { welcome: e2ee.welcome } : {}) } }
          : {}),
        audit,
      });
      return { rbmMessageId: sent.rbmMessageId, acceptedRecorded: run.audit.settle(audit, sent.audit) };
    } catch (err) {
      const failure = channelFailure(err);
      run.record(
        { channel: 'rcs', result: 'failed', errorCode: failure.code, ...supplementaryOf(options) },
        {
          event: 'attempt',
          channel: 'rcs',
          result: 'failed',
          errorCode: failure.code,
          detail: { n, ...detailOf(options) },
        },
      );
      if (failure.type !== FailureType.RcsTransient) {
        return { delivered: false, reason: 'rcs_permanent_error', errorCode: failure.code };
      }
      if (n >= run.policy.rcsMaxAttempts) {
        return { delivered: false, reason: 'rcs_retries_exhausted', errorCode: failure.code };
      }
      await run.flush();
      await sleep(failure.retryAfterMs ?? run.policy.rcsRetryBackoffMs * 2 ** (n - 1));
    }
  }
}

/** The phone could not decrypt: nothing readable reached it, so there is nothing to revoke. */
function undecryptable(run: DeliveryRun, e2eeFailure: string, options: RcsAttemptOptions): StepFailure {
  const errorCode = `E2EE_${e2eeFailure}`;
  run.record(
    { channel: 'rcs', result: 'failed', errorCode, ...supplementaryOf(options) },
    {
      event: 'e2ee_failure',
      channel: 'rcs',
      result: 'failed',
      errorCode,
      detail: { newGroup: !!options.e2ee?.newGroup },
    },
  );
  return { delivered: false, reason: 'e2ee_failed', errorCode };
}

/** No receipt in time (or the pilot's SMS won): take the copy back if the hub still can. */
async function revoked(run: DeliveryRun, options: RcsAttemptOptions): Promise<boolean> {
  run.enter('revoking-rcs');
  run.publish();
  const answer = await revokeRcs({ ...run.messageRef, e2ee: !!options.e2ee });
  if (answer !== 'revoked') return false;
  const errorCode = run.receipts.standDown ? 'STOOD_DOWN' : 'RECEIPT_TIMEOUT';
  run.record(
    { channel: 'rcs', result: 'revoked', errorCode, ...supplementaryOf(options) },
    { event: 'revoked', channel: 'rcs', result: 'revoked', errorCode, detail: detailOf(options) },
  );
  return true;
}

const supplementaryOf = (options: RcsAttemptOptions) =>
  options.supplementary ? { supplementary: true } : {};
const detailOf = (options: RcsAttemptOptions): Record<string, boolean> =>
  options.supplementary ? { supplementary: true } : {};

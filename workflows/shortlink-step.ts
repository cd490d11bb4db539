import type { DeliveryRequest } from '../domain/message';
import { createShortlink } from './activities-proxy';
import type { DeliveryRun } from './delivery-run';
import type { RoutePlan } from './route';
import { channelFailure } from './step-result';

/**
 * Recipe A: a file goes behind a secure link bound to the recipient, and the link goes in the
 * text. With no file to link (an unknown, expired or other tenant's upload; the store down past
 * its retries) the text still goes out as routed: the outcome says shortlink: false, the trail why.
 */
export async function attachShortlink(
  run: DeliveryRun,
  request: DeliveryRequest,
  plan: RoutePlan,
): Promise<boolean> {
  if (!request.media || plan.steps.length === 0) return false;
  run.publish();
  try {
    const { url } = await createShortlink({
      ...run.messageRef,
      tenant: request.tenant,
      media: request.media,
    });
    run.text = `${request.text} ${url}`;
    run.audit.add({ event: 'shortlink', channel: null, result: 'created', errorCode: null, detail: {} });
    return true;
  } catch (err) {
    const { code } = channelFailure(err);
    run.audit.add({ event: 'shortlink', channel: null, result: 'failed', errorCode: code, detail: {} });
    return false;
  }
}

import type { DeliveryRequest } from '../domain/message';
import { createShortlink } from './activities-proxy';
import type { DeliveryRun } from './delivery-run';
import type { RoutePlan } from './route';

/** Recipe A: a file goes behind a secure link bound to the recipient, and the link goes in the text. */
export async function attachShortlink(
  run: DeliveryRun,
  request: DeliveryRequest,
  plan: RoutePlan,
): Promise<boolean> {
  if (!request.media || plan.steps.length === 0) return false;
  run.publish();
  const { url } = await createShortlink({ ...run.messageRef, media: request.media });
  run.text = `${request.text} ${url}`;
  run.audit.add({ event: 'shortlink', channel: null, result: 'created', errorCode: null, detail: {} });
  return true;
}

import { ParentClosePolicy, sleep, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import type { DeliveryOutcome, DeliveryRequest } from '../domain/message';
import { workflowIdFor } from '../domain/message';
import type { ProbeRecipient, ProbeRecipientResult, ProbeRun, ProbeSettings } from '../domain/probes';
import { classifyProbe } from '../domain/probes';
import { checkProbeCapabilities, recordProbeResults } from './activities-proxy';
import { deliverMessage } from './deliver-message';
import { sealedInput } from './refusals';

/** What a probe sends: nothing of anyone's, recognisable on a handset's screen. */
export const PROBE_TEXT = 'Switchboard synthetic probe';
export const PROBE_TENANT = 'synthetic-probes';

/**
 * One region's synthetic probe, started by its Schedule: asks the hub what each synthetic
 * recipient can take right now (bypassing the cache), sends each a message through the real
 * pipeline (a deliverMessage child marked synthetic), and records how each came out.
 */
export async function syntheticProbe(input: ProbeSettings): Promise<ProbeRun> {
  const settings = sealedInput(input);
  const at = new Date().toISOString();
  const observed = await checkProbeCapabilities({ region: settings.region, recipients: settings.recipients });
  const deadline = sleep(settings.timeoutMs).then(() => null);
  const outcomes = await Promise.all(settings.recipients.map((r) => probeOne(settings.region, r, deadline)));
  const run: ProbeRun = {
    probeRunId: workflowInfo().runId,
    region: settings.region,
    at,
    results: settings.recipients.map((r, i) => resultOf(r, outcomes[i] ?? null, observed[i] ?? 'error')),
  };
  await recordProbeResults(run);
  return run;
}

/** The recipient's probe message; null when it has no outcome by the deadline. */
async function probeOne(
  region: string,
  recipient: ProbeRecipient,
  deadline: Promise<null>,
): Promise<DeliveryOutcome | 'failed' | null> {
  const request: DeliveryRequest = {
    messageId: uuid4(),
    to: recipient.to,
    text: PROBE_TEXT,
    flow: 'standard',
    e2ee: 'preferred',
    tenant: PROBE_TENANT,
    region,
    submittedAt: new Date().toISOString(),
    synthetic: true,
  };
  // Abandoned, not terminated, when the probe ends first: a late message still finishes its trail.
  const child = await startChild(deliverMessage, {
    workflowId: workflowIdFor(request.messageId),
    args: [request],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  return Promise.race([child.result().catch(() => 'failed' as const), deadline]);
}

function resultOf(
  recipient: ProbeRecipient,
  outcome: DeliveryOutcome | 'failed' | null,
  observed: ProbeRecipientResult['observed'],
): ProbeRecipientResult {
  const o = outcome === 'failed' ? null : outcome;
  return {
    carrier: recipient.carrier,
    capability: recipient.capability,
    result: outcome === 'failed' ? 'failed' : classifyProbe(recipient.capability, o),
    channel: o?.status === 'delivered' ? o.channel : null,
    latencyMs: o?.status === 'delivered' ? o.timings.totalMs : null,
    fallbackReason: o?.fallbackReason ?? null,
    observed,
  };
}

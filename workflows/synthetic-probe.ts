import { ParentClosePolicy, sleep, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import type { DeliveryOutcome, DeliveryRequest, E2eePayload } from '../domain/message';
import { workflowIdFor } from '../domain/message';
import type { ProbeRecipient, ProbeRecipientResult, ProbeRun, ProbeSettings } from '../domain/probes';
import { classifyProbe } from '../domain/probes';
import { checkProbeCapabilities, recordProbeResults, sealProbeMessages } from './activities-proxy';
import { deliverMessage } from './deliver-message';
import { sealedInput } from './refusals';

/** What a probe sends: nothing of anyone's, recognisable on a handset's screen. */
export const PROBE_TEXT = 'Switchboard synthetic probe';
export const PROBE_TENANT = 'synthetic-probes';

/**
 * One region's synthetic probe, started by its Schedule: asks the hub what each synthetic
 * recipient can take right now (bypassing the cache), seals the E2EE recipients' messages as an
 * app would, sends each recipient a message through the real pipeline (a deliverMessage child
 * marked synthetic), and records how each came out.
 */
export async function syntheticProbe(input: ProbeSettings): Promise<ProbeRun> {
  const settings = sealedInput(input);
  const at = new Date().toISOString();
  const { region, recipients } = settings;
  const observed = await checkProbeCapabilities({ region, recipients });
  const e2ee = recipients.filter((r) => r.capability === 'rcs-e2ee');
  const sealed = e2ee.length ? await sealProbeMessages({ recipients: e2ee, text: PROBE_TEXT }) : [];
  const payloadOf = (r: ProbeRecipient) => sealed[e2ee.indexOf(r)] ?? null;
  const deadline = sleep(settings.timeoutMs).then(() => null);
  const outcomes = await Promise.all(recipients.map((r) => probeOne(region, r, payloadOf(r), deadline)));
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
  e2eePayload: E2eePayload | null,
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
    ...(e2eePayload ? { e2eePayload } : {}),
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
    e2ee: o?.status === 'delivered' && o.e2ee,
    e2eeNegotiationMs: o?.timings.e2eeNegotiationMs ?? null,
  };
}

import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { REQUEST_REFUSED } from '../domain/refused-payload';
import { randomUUID } from 'node:crypto';
import { workflowIdFor } from '../domain/message';
import type { DeliveryRequest } from '../domain/message';
import { deliverMessage } from '../workflows';
import { loadConfig } from '../config';
import { stack } from './fixtures/stack';
import { buildRegionalChannels } from '../workers/regional-channels';
import pino from 'pino';
import { RegionUnservedError } from '../channels/region-errors';
import type { SharedCapabilityStore } from '../channels/rcs/capability-cache';

const EU = '+447700900123';

describe('residency: a message only ever uses its own region’s endpoints', function () {
  this.timeout(30_000);

  it('an eu number is probed, sent and delivered through the eu endpoints only', async () => {
    const { switchboard, carriers, euCarriers } = stack();
    const sent = await switchboard.send({ to: EU, text: 'bonjour' });
    const outcome = await switchboard.waitForOutcome(sent.messageId);
    assert.equal(outcome.status, 'delivered');
    assert.equal(outcome.channel, 'rcs');
    const touched = (requests: Array<{ msisdn: string | null }>) =>
      requests.filter((r) => r.msisdn === EU).length;
    assert.equal(touched(carriers.rcsHub.requests), 0, 'the us hub never saw the eu number');
    assert.ok(touched(euCarriers.rcsHub.requests) >= 2, 'the eu hub answered the capability and the send');
  });

  it('an eu number that falls back to SMS uses the eu SMSC, never the us one', async () => {
    const { switchboard, carriers, euCarriers } = stack();
    euCarriers.rcsHub.inject({ errorRates: { 400: 1 }, onlyOps: ['send'] });
    try {
      const to = '+447700900124';
      const sent = await switchboard.send({ to, text: 'fallback in eu' });
      const outcome = await switchboard.waitForOutcome(sent.messageId);
      assert.equal(outcome.channel, 'sms');
      const digits = to.slice(1);
      assert.ok(euCarriers.smsc.received.some((m) => m.destination.endsWith(digits)));
      assert.ok(!carriers.smsc.received.some((m) => m.destination.endsWith(digits)));
    } finally {
      euCarriers.rcsHub.reset();
    }
  });

  it('a regional endpoint refuses numbers of another region (403)', () => {
    const { carriers, euCarriers } = stack();
    // The eu hub is built to refuse us numbers, like a real regional endpoint; nothing we send reaches it.
    assert.ok(!euCarriers.rcsHub.requests.some((r) => r.msisdn?.startsWith('+1')));
    assert.ok(!carriers.rcsHub.requests.some((r) => r.msisdn?.startsWith('+44')));
  });

  it('a region without endpoints fails with a clear reason instead of leaking abroad', async () => {
    const env = loadConfig({ REGION_ENDPOINTS: '{}' });
    const shared: SharedCapabilityStore = { get: () => Promise.resolve(null), put: () => Promise.resolve() };
    const channels = buildRegionalChannels(env, {
      sharedCapabilities: shared,
      logger: pino({ enabled: false }),
    });
    try {
      assert.deepEqual(channels.regions(), ['us']);
      assert.throws(() => channels.forRegion('eu'), RegionUnservedError);
    } finally {
      await Promise.all(channels.gateways().map((g) => g.close()));
    }
  });

  it('end to end: a message claiming a region other than its number’s is refused and touches no carrier', async () => {
    const { client, taskQueue, carriers, euCarriers } = stack();
    const before = carriers.rcsHub.requests.length + euCarriers.rcsHub.requests.length;
    const smsBefore = carriers.smsc.received.length + euCarriers.smsc.received.length;
    // The worker takes the region from the number itself (region_unserved, for a number of a
    // region this worker has no endpoints for, is covered by test/workflows/flows.test.ts).
    const messageId = randomUUID();
    const request: DeliveryRequest = {
      messageId,
      to: '+15550200099',
      text: 'nowhere to go',
      flow: 'standard',
      e2ee: 'preferred',
      tenant: 'default',
      region: 'apac',
      submittedAt: new Date().toISOString(),
    };
    const failure = await client.workflow
      .execute(deliverMessage, { taskQueue, workflowId: workflowIdFor(messageId), args: [request] })
      .then(
        () => assert.fail('a request for another region must not run'),
        (err: unknown) => err,
      );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.ok(failure.cause instanceof ApplicationFailure);
    assert.equal(failure.cause.type, REQUEST_REFUSED);
    assert.equal((failure.cause.details?.[0] as { field: string }).field, 'region');
    assert.equal(carriers.rcsHub.requests.length + euCarriers.rcsHub.requests.length, before);
    assert.equal(carriers.smsc.received.length + euCarriers.smsc.received.length, smsBefore);
  });

  it('bad REGION_ENDPOINTS are refused naming the variable', () => {
    assert.throws(() => loadConfig({ REGION_ENDPOINTS: 'not json' }), /REGION_ENDPOINTS: JSON object/);
    assert.throws(() => loadConfig({ REGION_ENDPOINTS: '{"eu":{"rcsHubUrl":"x"}}' }), /REGION_ENDPOINTS/);
  });
});

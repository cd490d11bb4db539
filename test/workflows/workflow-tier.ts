// The workflow tier's environment: its own Temporal dev server and one Worker over the stub
// carrier, started on first use and shared by every suite of the mocha process. It reuses nothing
// from the full stack (test/fixtures/stack.ts), so both tiers run in one process or alone.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import type { DeliveryOutcome, DeliveryRequest, E2eePayload } from '../../domain/message';
import { workflowIdFor } from '../../domain/message';
import { resolveTemporalCli } from '../../workers/temporal-server';
import { installTemporalRuntime } from '../../workers/temporal-runtime';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import type { deliverMessage } from '../../workflows';
import { StubCarrier } from './stub-activities';
import type { MessageScript } from './stub-activities';

export interface WorkflowTier {
  env: TestWorkflowEnvironment;
  carrier: StubCarrier;
  taskQueue: string;
}

let tier: Promise<{ tier: WorkflowTier; stop: () => Promise<void> }> | null = null;

export async function workflowTier(): Promise<WorkflowTier> {
  tier ??= start();
  return (await tier).tier;
}

async function start() {
  // A no-op when the full stack installed the runtime first (npm test runs both tiers).
  installTemporalRuntime(pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }));
  const [env, workflowBundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: resolveTemporalCli() },
        ip: '127.0.0.1',
        searchAttributes: SEARCH_ATTRIBUTES,
        extraArgs: [
          '--log-level',
          'error',
          // As npm start's server: hand-offs between workflow and activity without a 50 ms poll.
          '--dynamic-config-value',
          'history.transferProcessorMaxPollRPS=1000',
          '--dynamic-config-value',
          'history.timerProcessorMaxTimeShift="10ms"',
        ],
      },
    }),
    // Bundled once for the tier: webpack takes seconds, the Worker reuses the bundle.
    bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: new DefaultLogger('WARN'),
    }),
  ]);
  const carrier = new StubCarrier(env.client);
  const taskQueue = `workflow-tier-${randomBytes(3).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: carrier.activities(),
  });
  const running = worker.run();
  return {
    tier: { env, carrier, taskQueue },
    stop: async () => {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

// At the top level of a module that spec files load, so a root hook: it runs once, after every
// suite of the process, whichever files used the tier.
after(async function () {
  this.timeout(30_000);
  if (tier) await (await tier).stop();
});

/** Stands in for the app's MLS output: the stub carrier never decrypts it. */
export const E2EE_PAYLOAD: E2eePayload = {
  ciphertext: Buffer.from('mls-private-message').toString('base64'),
  welcome: Buffer.from('mls-welcome').toString('base64'),
  negotiationMs: 42,
  newGroup: true,
};

export function messageRequest(
  overrides: Partial<DeliveryRequest> & Pick<DeliveryRequest, 'to'>,
): DeliveryRequest {
  return {
    messageId: randomUUID(),
    text: 'Your parcel is on its way',
    flow: 'standard',
    e2ee: 'preferred',
    tenant: 'tenant-wf',
    region: 'us',
    submittedAt: new Date().toISOString(),
    ...overrides,
  };
}

export async function startDelivery(
  request: DeliveryRequest,
  script: MessageScript = {},
): Promise<WorkflowHandle<typeof deliverMessage>> {
  const { env, carrier, taskQueue } = await workflowTier();
  carrier.script(request.messageId, script);
  return env.client.workflow.start<typeof deliverMessage>('deliverMessage', {
    taskQueue,
    workflowId: workflowIdFor(request.messageId),
    args: [request],
  });
}

export async function deliver(
  request: DeliveryRequest,
  script: MessageScript = {},
): Promise<DeliveryOutcome> {
  const outcome = await (await startDelivery(request, script)).result();
  // Every receipt reached a running workflow, as the receipt router's would.
  assert.deepEqual((await workflowTier()).carrier.signalErrors, []);
  return outcome;
}

/**
 * The events of one lane of a message's audit trail (AUDIT_LANE: the parent's, a pilot child's),
 * in the order they were written; fails unless their seqs run contiguously from the lane's start.
 */
export function auditEvents(carrier: StubCarrier, messageId: string, lane = 0): string[] {
  const rows = carrier.audit(messageId).filter((r) => r.seq >= lane && r.seq < lane + 1000);
  assert.deepEqual(
    rows.map((r) => r.seq),
    rows.map((_, i) => lane + i),
    'audit seqs are contiguous and written in order',
  );
  return rows.map((r) => r.event);
}

/** The attempts without their timestamps, for exact comparison. */
export const attemptsOf = (outcome: DeliveryOutcome) => outcome.attempts.map(({ at: _at, ...rest }) => rest);

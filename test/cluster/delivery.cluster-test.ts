// On the cluster (Temporal on PostgreSQL, mTLS, two delivery workers, receipts, lawful access and
// guards as separate processes): every path of the sandbox number plan, the pilot, the critical
// flow and residency, as the dev-server tests check them; then the histories the cluster wrote
// replay against this code.
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { SCENARIOS } from '../scenarios';
import { taskQueues } from '../../config/task-queues';
import { guardWorkflowId } from '../../workers/guards';
import { TEST_SECRETS, testDataConverter } from '../fixtures/stack';
import { clusterStack } from './cluster-stack';
import { ApiKeyStore } from '../../store/api-keys';
import { AuditLog } from '../../store/audit-log';
import { call, waitForStatus } from '../api/api-fixture';

const delivered: string[] = [];
const send = async (to: string, extra: { flow?: string; rcsCopy?: boolean } = {}) => {
  const { switchboard } = clusterStack();
  const sent = await switchboard.send({ to, text: 'on the cluster', ...extra });
  delivered.push(sent.workflowId);
  return switchboard.waitForOutcome(sent.messageId);
};

describe('the cluster: Temporal on PostgreSQL over mTLS, Switchboard as separate processes', function () {
  this.timeout(60_000);

  it('runs the topology as separate processes, and the frontend refuses a client without a certificate', async () => {
    const { cluster, temporal } = clusterStack();
    assert.deepEqual([...cluster.processes.values()].map((p) => [p.name, p.services]).sort(), [
      ['api', 'api'],
      ['lawful-access', 'lawful-access,guards'],
      ['receipts', 'receipts,shortlinks'],
      ['worker-1', 'worker'],
      ['worker-2', 'worker'],
    ]);
    assert.equal(new Set([...cluster.processes.values()].map((p) => p.pid)).size, 5);
    const tls = { ...cluster.tls, clientCertPair: undefined };
    await assert.rejects(async () => {
      const anonymous = await Connection.connect({ address: temporal.address, tls, connectTimeout: 3000 });
      await new Client({ connection: anonymous }).workflow.count();
    });
    const plaintext = Connection.connect({ address: temporal.address, connectTimeout: 3000 });
    await assert.rejects(plaintext.then((c) => new Client({ connection: c }).workflow.count()));
  });

  it('the rollout guards run on their own task queue, polled by the guards process only', async () => {
    const { client, env, cluster } = clusterStack();
    const queue = taskQueues(env).guards;
    for (const region of ['us', 'eu']) {
      const guard = await client.workflow.getHandle(guardWorkflowId(region)).describe();
      assert.deepEqual([guard.status.name, guard.taskQueue], ['RUNNING', queue]);
    }
    // Pollers are named pid@host; a process killed by the chaos test lingers in the list a while.
    const pollerPids = async (taskQueue: string) => {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: { name: taskQueue },
      });
      return new Set((pollers ?? []).map((p) => Number(p.identity?.split('@')[0])));
    };
    const pid = (name: string) => cluster.processes.get(name)?.pid ?? -1;
    const guards = await pollerPids(queue);
    assert.ok(guards.has(pid('lawful-access')), 'the guards process polls the guards queue');
    const delivery = await pollerPids(taskQueues(env).delivery);
    assert.ok(delivery.has(pid('worker-1')) && delivery.has(pid('worker-2')), 'both delivery workers poll');
    for (const other of ['receipts', 'worker-1', 'worker-2']) assert.ok(!guards.has(pid(other)), other);
    for (const other of ['receipts', 'lawful-access']) assert.ok(!delivery.has(pid(other)), other);
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.expect.status} over ${scenario.expect.channel ?? 'nothing'}`, async () => {
      const outcome = await send(scenario.to);
      assert.equal(outcome.status, scenario.expect.status);
      assert.equal(outcome.channel, scenario.expect.channel);
      assert.equal(outcome.fallbackReason, scenario.expect.fallbackReason);
      assert.deepEqual(
        outcome.attempts.map(({ channel, result, errorCode }) => ({ channel, result, errorCode })),
        scenario.expect.attempts,
      );
    });
  }

  it('critical: SMS is authoritative, an RCS copy follows as supplementary', async () => {
    const outcome = await send('+15550100006', { flow: 'critical', rcsCopy: true });
    assert.equal(outcome.authoritative, 'sms');
    assert.equal(outcome.fallbackReason, 'critical_sms_first');
    assert.deepEqual(
      outcome.attempts.map((a) => [a.channel, a.result, a.supplementary ?? false]),
      [
        ['sms', 'delivered', false],
        ['rcs', 'delivered', true],
      ],
    );
  });

  it('pilot: RCS and SMS race as child workflows, the loser stood down or counted a duplicate', async () => {
    const outcome = await send('+15550500020', { flow: 'pilot' });
    assert.equal(outcome.flow, 'pilot');
    assert.equal(outcome.channel, 'sms');
    assert.deepEqual(outcome.pilot && [outcome.pilot.winner, outcome.pilot.loser], ['sms', 'revoked']);
    const { client } = clusterStack();
    for (const lane of ['rcs', 'sms']) {
      const child = await client.workflow.getHandle(`${outcome.workflowId}-${lane}`).describe();
      assert.equal(child.status.name, 'COMPLETED');
    }
  });

  it('residency: an eu number goes through the eu endpoints only', async () => {
    const { carriers, euCarriers } = clusterStack();
    const eu = '+447700900123';
    const outcome = await send(eu);
    assert.equal(outcome.status, 'delivered');
    const touched = (requests: Array<{ msisdn: string | null }>) =>
      requests.filter((r) => r.msisdn === eu).length;
    assert.equal(touched(carriers.rcsHub.requests), 0, 'the us hub never saw the eu number');
    assert.ok(touched(euCarriers.rcsHub.requests) >= 2, 'the eu hub answered the capability and the send');
  });

  it('an app with an API key only sends through the API process, over mTLS to the cluster', async () => {
    const { db, apiUrl } = clusterStack();
    const keys = new ApiKeyStore(db, new AuditLog(db, TEST_SECRETS.auditHashKey));
    await keys.createTenant('cluster-app');
    const { apiKey } = await keys.create('cluster-app', ['send', 'read']);
    const sent = await call<{ messageId: string }>(apiUrl, 'POST', '/v1/messages', {
      key: apiKey,
      body: { to: '+15550200042', text: 'through the API on the cluster', e2ee: 'off' },
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const status = await waitForStatus(apiUrl, apiKey, sent.body.messageId);
    assert.equal(status.status, 'delivered');
    assert.equal(status.channel, 'rcs');
  });

  it('replay: every history the cluster recorded above replays against this code', async () => {
    const { client } = clusterStack();
    assert.ok(delivered.length >= SCENARIOS.length + 3);
    const histories = await Promise.all(
      delivered.map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const results = Worker.runReplayHistories(
      { workflowsPath: require.resolve('../../workflows'), dataConverter: testDataConverter() },
      histories,
    );
    let replayed = 0;
    for await (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed++;
    }
    assert.equal(replayed, delivered.length);
  });
});

// A guard that ends (here terminated, as an operator or a failed run would leave it) is started
// again by the worker's supervisor within its check interval, in the same process.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../config';
import { guardWorkflowId, superviseGuards } from '../../workers/guards';
import type { GuardSupervisor } from '../../workers/guards';
import { stack } from '../fixtures/stack';

const SUPERVISE_MS = 500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('rollout guard supervisor', function () {
  this.timeout(30_000);
  const regions = [`sup-${randomBytes(3).toString('hex')}`, `sup-${randomBytes(3).toString('hex')}`];
  const logged: string[] = [];
  let supervisor: GuardSupervisor;

  before(async () => {
    const { env, client } = stack();
    const guarded = loadConfig({
      ...process.env,
      TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE,
      GUARD_REGIONS: regions.join(','),
      GUARD_CHECK_MS: '60000',
      GUARD_SUPERVISE_MS: String(SUPERVISE_MS),
    });
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
    supervisor = await superviseGuards(client, guarded, logger);
  });

  after(async () => {
    supervisor.stop();
    for (const region of regions) {
      await stack()
        .client.workflow.getHandle(guardWorkflowId(region))
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  const describeGuard = (region: string) =>
    stack().client.workflow.getHandle(guardWorkflowId(region)).describe();

  async function runningRunOf(region: string, notRunId: string | null, withinMs: number): Promise<string> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const d = await describeGuard(region);
      if (d.status.name === 'RUNNING' && d.runId !== notRunId) return d.runId;
      if (Date.now() > deadline) assert.fail(`guard ${region}: ${d.status.name} after ${withinMs} ms`);
      await sleep(100);
    }
  }

  it('starts every region guard at once, and a second start leaves the running one alone', async () => {
    const first = await Promise.all(regions.map((r) => runningRunOf(r, null, 5_000)));
    await sleep(SUPERVISE_MS * 3);
    const later = await Promise.all(regions.map((r) => runningRunOf(r, null, 0)));
    assert.deepEqual(later, first);
  });

  it('a terminated guard is running again within the check interval, the other untouched', async () => {
    const [victim, bystander] = regions as [string, string];
    const bystanderRun = await runningRunOf(bystander, null, 5_000);
    const victimRun = await runningRunOf(victim, null, 5_000);
    await stack().client.workflow.getHandle(guardWorkflowId(victim), victimRun).terminate('fault test');
    assert.equal((await describeGuard(victim)).status.name, 'TERMINATED');

    // Two check intervals, plus slack for a loaded 2-core CI machine (a describe and a start can
    // take seconds there); without the supervisor the guard would stay terminated for good.
    const restarted = await runningRunOf(victim, victimRun, SUPERVISE_MS * 2 + 8_000);
    assert.notEqual(restarted, victimRun);
    assert.equal(await runningRunOf(bystander, null, 0), bystanderRun);
    assert.ok(
      logged.some((l) => l.includes(victim) && l.includes('TERMINATED') && l.includes('started it again')),
      'the restart is logged with the status it found',
    );
  });
});

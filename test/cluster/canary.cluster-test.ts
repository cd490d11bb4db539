// Canary deploys of routing logic on the cluster: the v1 delivery workers run; two v2 workers
// start from another build (a copy of dist/ whose route() is changed); `switchboard deploy ramp`
// sends a share of new messages to v2, `rollback` sends them back to v1, `promote` moves them all.
// Which build ran a message is read from its history (each workflow task's deployment version).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { PROJECT_ROOT } from '../../config/paths';
import { startRoleProcess } from '../../workers/cluster/role-process';
import type { RoleProcess } from '../../workers/cluster/role-process';
import { clusterStack } from './cluster-stack';

const run = promisify(execFile);
const BIN = join(PROJECT_ROOT, 'bin', 'switchboard.js');

/** `switchboard deploy …` as an operator runs it, through the cluster's envconfig profile. */
async function deploy(...args: string[]): Promise<Record<string, unknown>> {
  const { cluster } = clusterStack();
  const { stdout } = await run(process.execPath, [BIN, 'deploy', ...args, '--json'], {
    env: { ...cluster.roleEnv, LOG_LEVEL: 'silent' },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** The build of every workflow task the message's workflow completed, in order. */
async function buildsThatRan(workflowId: string): Promise<Array<{ buildId: string; at: number }>> {
  const history = await clusterStack().client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const version = e.workflowTaskCompletedEventAttributes?.deploymentVersion;
    const at = Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    return version ? [{ buildId: version.buildId ?? '', at }] : [];
  });
}

/** Another build of Switchboard: this dist/ copied, with route() changed, under the project (for node_modules). */
function buildV2(): string {
  const dir = mkdtempSync(join(PROJECT_ROOT, '.data', 'canary-build-'));
  // What the image ships (Dockerfile): the build, the page's static files, package.json.
  for (const part of ['dist', 'dashboard/page', 'package.json'])
    cpSync(join(PROJECT_ROOT, part), join(dir, part), { recursive: true });
  const routeJs = join(dir, 'dist', 'workflows', 'route.js');
  const source = readFileSync(routeJs, 'utf8');
  const phaseLine = 'const phase = config.flowOverrides[request.flow] ?? config.phase;';
  const changed = source.replace(phaseLine, `${phaseLine}\n    void 'v2: the routing change under test';`);
  assert.notEqual(changed, source, 'the v2 build changes route()');
  writeFileSync(routeJs, changed);
  return dir;
}

const smsOnly = (i: number) => `+1555030${String(7000 + i).padStart(4, '0')}`;
const heldReceipt = (i: number) => `+1555030${String(8000 + i).padStart(4, '0')}`;

async function sendMany(count: number, to: (i: number) => string, offset: number) {
  const { switchboard } = clusterStack();
  const sent = await Promise.all(
    Array.from({ length: count }, (_, i) => switchboard.send({ to: to(offset + i), text: 'canary' })),
  );
  const outcomes = await Promise.all(sent.map((s) => switchboard.waitForOutcome(s.messageId)));
  assert.ok(
    outcomes.every((o) => o.status === 'delivered'),
    'every message delivered',
  );
  return Promise.all(sent.map(async (s) => (await buildsThatRan(s.workflowId)).map((b) => b.buildId)));
}

describe('canary deploys of routing logic: worker versioning on the cluster', function () {
  this.timeout(300_000);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let buildDir = '';
  let v1 = '';
  const v2 = `canary-${Date.now().toString(36)}`;
  const v2Workers: RoleProcess[] = [];

  before(async () => {
    const status = (await deploy('status')).status as { current: string | null };
    assert.ok(status.current, 'the first build made itself current when its workers started');
    v1 = status.current;
    buildDir = buildV2();
    const { cluster } = clusterStack();
    for (const name of ['canary-1', 'canary-2'])
      v2Workers.push(
        await startRoleProcess({
          name,
          services: 'worker',
          env: { ...cluster.roleEnv, WORKER_BUILD_ID: v2 },
          logger,
          entry: join(buildDir, 'dist', 'workers', 'main.js'),
        }),
      );
  });

  after(async () => {
    // The other cluster tests run on v1 alone, as they were.
    const status = (await deploy('status')).status as { current: string | null; ramping: string | null };
    if (status.ramping) await deploy('rollback', '--note', 'canary test done');
    if (v1 && status.current !== v1) await deploy('promote', v1, '--note', 'canary test done');
    for (const w of v2Workers) await w.stop();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  it('a started v2 build takes nothing until ramped; ramp 20 % → 10–30 % of 200 on v2, in-flight v1 messages stay on v1', async () => {
    const before = (await deploy('status')).status as { current: string; builds: Array<{ buildId: string }> };
    assert.equal(before.current, v1, 'starting v2 workers changes nothing (WORKER_DEPLOYMENT_PROMOTE=first)');
    assert.ok(
      before.builds.some((b) => b.buildId === v2),
      'the server has seen v2 poll',
    );

    // SMS messages whose receipts the SMSC holds for 5 s: in flight on v1 while the ramp is made.
    const { switchboard, carriers } = clusterStack();
    carriers.smsc.inject({ receiptDelayMs: 5000 });
    const inFlight = await Promise.all(
      Array.from({ length: 10 }, (_, i) => switchboard.send({ to: heldReceipt(i), text: 'in flight' })),
    );
    const submitted = (to: string) =>
      carriers.smsc.received.some((m) => `+${m.destination.replace(/^\+/, '')}` === to);
    for (let i = 0; i < 10; i++)
      for (const deadline = Date.now() + 20_000; !submitted(heldReceipt(i));) {
        assert.ok(Date.now() < deadline, 'the in-flight messages reached the SMSC');
        await new Promise((r) => setTimeout(r, 50));
      }
    carriers.smsc.inject({ receiptDelayMs: 0 });
    const ramp = await deploy('ramp', v2, '20', '--note', 'canary of the routing change');
    const rampedAt = Date.parse(ramp.changedAt as string);
    assert.equal(ramp.action, 'ramp');
    assert.equal(ramp.previousCurrent, v1);

    const builds = await sendMany(200, smsOnly, 0);
    const onV2 = builds.filter((b) => b.every((id) => id === v2)).length;
    const mixed = builds.filter((b) => new Set(b).size !== 1).length;
    process.stdout.write(`      ramp 20 %: ${onV2} of 200 new messages ran on v2, ${200 - onV2} on v1\n`);
    assert.equal(mixed, 0, 'every message runs on one build from start to end (PINNED)');
    assert.ok(onV2 >= 20 && onV2 <= 60, `${onV2} of 200 on v2: between 10 % and 30 %`);

    for (const s of inFlight) {
      const outcome = await switchboard.waitForOutcome(s.messageId);
      assert.equal(outcome.status, 'delivered');
      const ran = await buildsThatRan(s.workflowId);
      assert.ok(
        ran.every((b) => b.buildId === v1),
        'an in-flight message finishes on v1',
      );
      assert.ok(
        ran.some((b) => b.at >= rampedAt),
        'it had workflow tasks after the ramp',
      );
    }
  });

  it('rollback: new messages run on v1 only; promote: all on v2; every change is recorded', async () => {
    const rollback = await deploy('rollback', '--note', 'canary looked wrong');
    assert.equal(rollback.action, 'rollback');
    assert.equal(rollback.previousRamping, v2);
    const afterRollback = await sendMany(30, smsOnly, 200);
    assert.ok(
      afterRollback.every((b) => b.every((id) => id === v1)),
      'after rollback, all on v1',
    );

    const promote = await deploy('promote', v2);
    assert.equal(promote.previousCurrent, v1);
    const afterPromote = await sendMany(30, smsOnly, 230);
    assert.ok(
      afterPromote.every((b) => b.every((id) => id === v2)),
      'after promote, all on v2',
    );

    // Rollback after a promote makes the build current before it current again.
    const back = await deploy('rollback');
    assert.equal(back.buildId, v1);
    const status = await deploy('status');
    assert.equal((status.status as { current: string }).current, v1);
    const actions = (status.history as Array<{ action: string; buildId: string | null }>)
      .slice(0, 4)
      .map((c) => `${c.action} ${c.buildId}`);
    assert.deepEqual(actions, [`rollback ${v1}`, `promote ${v2}`, `rollback ${v1}`, `ramp ${v2}`]);
  });

  it("an operator's probe commands reach the cluster through its envconfig profile, as deploy does", async () => {
    const { cluster } = clusterStack();
    const { stdout } = await run(process.execPath, [BIN, 'probes', 'status', '--json'], {
      env: { ...cluster.roleEnv, LOG_LEVEL: 'silent' },
    });
    const { schedules } = JSON.parse(stdout) as { schedules: Array<{ region: string; exists: boolean }> };
    assert.deepEqual(
      schedules.map((s) => [s.region, s.exists]).sort(),
      [
        ['eu', true],
        ['us', true],
      ],
      'the guards process keeps a probe schedule per region on the cluster',
    );
  });

  it('refuses a build no worker has run and a percent out of range, naming the field', async () => {
    await assert.rejects(deploy('ramp', 'no-such-build', '10'), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /buildId: a build of deployment .* whose workers have polled/);
      return true;
    });
    await assert.rejects(deploy('ramp', v2, '120'), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /percent: a number from 0 to 100/);
      return true;
    });
  });
});

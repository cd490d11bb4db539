// The record of which build takes new messages: rows only ever added, newest first, and what
// `deploy rollback` reads (the build current before the last promote).
import assert from 'node:assert/strict';
import { DeploymentChanges } from '../../store/deployment-changes';
import type { DeploymentChange } from '../../store/deployment-changes';
import { createTestDatabase } from './test-database';
import type { TestDatabase } from './test-database';

describe('deployment changes', () => {
  let testDb: TestDatabase;
  let changes: DeploymentChanges;
  before(async () => {
    testDb = await createTestDatabase('switchboard_deployments');
    changes = new DeploymentChanges(testDb.db);
  });
  after(() => testDb?.drop());

  const change = (c: Partial<DeploymentChange>): DeploymentChange => ({
    deployment: 'switchboard',
    action: 'promote',
    buildId: 'v1',
    rampPercent: null,
    previousCurrent: null,
    previousRamping: null,
    actor: 'test',
    note: null,
    ...c,
  });

  it('lists changes newest first and finds the build current before a promote', async () => {
    await changes.record(change({ note: 'worker start' }));
    await changes.record(change({ action: 'ramp', buildId: 'v2', rampPercent: 20, previousCurrent: 'v1' }));
    await changes.record(change({ buildId: 'v2', previousCurrent: 'v1', previousRamping: 'v2' }));
    await changes.record(change({ deployment: 'other', buildId: 'v9', previousCurrent: 'v8' }));
    const history = await changes.history('switchboard');
    assert.deepEqual(
      history.map((c) => [c.action, c.buildId, c.rampPercent]),
      [
        ['promote', 'v2', null],
        ['ramp', 'v2', 20],
        ['promote', 'v1', null],
      ],
    );
    assert.equal(await changes.currentBefore('switchboard', 'v2'), 'v1');
    assert.equal(
      await changes.currentBefore('switchboard', 'v1'),
      null,
      'the first build had none before it',
    );
    assert.equal(await changes.currentBefore('switchboard', 'v9'), null, 'another deployment is not read');
  });

  it('refuses to edit or delete a recorded change, and a percent out of range', async () => {
    await assert.rejects(testDb.db.query("UPDATE deployment_changes SET build_id = 'forged'"), /append-only/);
    await assert.rejects(testDb.db.query('DELETE FROM deployment_changes'), /append-only/);
    await assert.rejects(changes.record(change({ action: 'ramp', rampPercent: 120 })), /ramp_percent/);
  });
});

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { testDataConverter } from './fixtures/stack';

// Saved from real runs by `npm run record-histories`; replaying them proves the workflow code
// still makes the same decisions, so a change that would break running messages fails here.
// Such a change must be versioned instead (README, "Changing workflow code").
const ROOT = join(__dirname, '..', '..', 'test', 'histories');

function load(dir: string) {
  const ids = new Map(
    readFileSync(join(dir, 'workflow-ids.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({
      file: f,
      workflowId: ids.get(f) ?? f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
    }));
}

describe('replay of saved histories', function () {
  this.timeout(60_000);

  it('has saved histories for every path: spine, critical, pilot (and its children), lawful access', () => {
    const files = load(ROOT).map((h) => h.file);
    for (const path of [
      'rcs-delivered',
      'rcs-transient-then-delivered',
      'rcs-permanent-to-sms',
      'rcs-no-receipt-revoke-to-sms',
      'sms-only',
      'sms-undeliverable',
      'critical-sms-first-with-rcs-copy',
      'pilot-both-delivered',
      'pilot-both-delivered.rcs-child',
      'pilot-rcs-offline-sms-wins',
      'lawful-access-granted',
      'lawful-access-refused',
    ]) {
      assert.ok(files.includes(`${path}.json`), `a saved history of ${path}`);
    }
  });

  it('replays every history in test/histories', async () => {
    const histories = load(ROOT);
    const results = Worker.runReplayHistories(
      { workflowsPath: require.resolve('../workflows'), dataConverter: testDataConverter() },
      histories,
    );
    let replayed = 0;
    for await (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed++;
    }
    assert.equal(replayed, histories.length);
  });

  it('fails with a DeterminismViolationError when the workflow logic changed unversioned', async () => {
    const history = load(ROOT).find((h) => h.file === 'rcs-delivered.json');
    assert.ok(history);
    const results = Worker.runReplayHistories(
      { workflowsPath: require.resolve('./fixtures/changed-workflows'), dataConverter: testDataConverter() },
      [history],
    );
    let replayed = 0;
    for await (const result of results) {
      assert.ok(
        result.error instanceof DeterminismViolationError,
        `expected a DeterminismViolationError, got ${String(result.error)}`,
      );
      replayed++;
    }
    assert.equal(replayed, 1);
  });
});

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testDataConverter } from './fixtures/stack';

// Saved from real runs by `npm run record-histories`; replaying them proves the workflow code
// still makes the same decisions, so changes that would break running messages fail here.
const DIR = join(__dirname, '..', '..', 'test', 'histories');

describe('replay of saved histories', function () {
  this.timeout(60_000);

  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it('has a saved history for every path of the spine', () => {
    assert.ok(files.length >= 13, `expected ≥13 histories in test/histories, found ${files.length}`);
    for (const path of [
      'critical-sms-first-with-rcs-copy',
      'pilot-both-delivered',
      'pilot-rcs-offline-sms-wins',
    ]) {
      assert.ok(files.includes(`${path}.json`), `a saved history of ${path}`);
    }
  });

  it('replays every saved history without nondeterminism', async () => {
    const ids = new Map(
      readFileSync(join(DIR, 'workflow-ids.txt'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ') as [string, string]),
    );
    const histories = files.map((f) => ({
      workflowId: ids.get(f) ?? f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(join(DIR, f), 'utf8'))),
    }));
    const results = Worker.runReplayHistories(
      { workflowsPath: require.resolve('../workflows'), dataConverter: testDataConverter() },
      histories,
    );
    let replayed = 0;
    for await (const result of results) {
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
      replayed++;
    }
    assert.equal(replayed, files.length);
  });
});

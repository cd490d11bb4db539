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
    assert.ok(files.length >= 6, `expected ≥6 histories in test/histories, found ${files.length}`);
  });

  it('replays every saved history without nondeterminism', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
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

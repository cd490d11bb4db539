import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testDataConverter } from './fixtures/stack';

// Saved from real runs by `npm run record-histories`; replaying them proves the workflow code
// still makes the same decisions, so changes that would break running messages fail here.
// test/histories/ holds the current recording; test/histories/v1/ one made by an earlier
// version of the workflow code, which the current code must still replay.
const ROOT = join(__dirname, '..', '..', 'test', 'histories');
// test/histories/v2/: recorded with the delivery policy's FOLD_LOOKUPS, SEARCH_ATTRIBUTE_BATCH and
// AUDIT_IN_SENDS on (the others were made before those flags existed).
const SETS = [ROOT, join(ROOT, 'v1'), join(ROOT, 'v2')].filter((dir) =>
  existsSync(join(dir, 'workflow-ids.txt')),
);
const LABELS: Record<string, string> = {
  [ROOT]: 'test/histories',
  [join(ROOT, 'v1')]: 'test/histories/v1 (older code)',
  [join(ROOT, 'v2')]: 'test/histories/v2 (policy flags of the bench round)',
};

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

  for (const dir of SETS) {
    it(`replays every history in ${LABELS[dir] ?? dir}`, async () => {
      const histories = load(dir);
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
  }
});

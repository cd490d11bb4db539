import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { codecOf } from '../codec/data-converter';
import { stack, testDataConverter, workerLog } from './fixtures/stack';
import { dumpDatabase } from './fixtures/dump-database';

describe('nothing leaks: a unique marker is searched for everywhere the server side keeps data', function () {
  this.timeout(60_000);

  for (const policy of ['off', 'preferred', 'required'] as const) {
    it(`e2ee=${policy}: the text is in no raw Temporal history, no table and no log line`, async () => {
      const { switchboard, temporal } = stack();
      const marker = `marker-${policy}-${randomBytes(6).toString('hex')}`;
      const to = '+15550600088'; // RCS refused, then SMS: both channels, failures, receipts
      const sent = await switchboard.send({ to, text: `hello ${marker}`, e2ee: policy });
      await switchboard.waitForOutcome(sent.messageId);

      const raw = new Client({ connection: temporal.connection }); // no codec: what the server stores
      const history = JSON.stringify(await raw.workflow.getHandle(sent.workflowId).fetchHistory());
      assert.ok(!history.includes(marker), 'marker in the raw Temporal history');
      assert.ok(
        !history.includes(Buffer.from(marker).toString('base64').slice(0, 16)),
        'marker (base64) in the raw history',
      );
      assert.ok(!history.includes(to.slice(1)), 'number in the raw history');

      const tables = await dumpDatabase();
      assert.ok(!tables.includes(marker), 'marker in PostgreSQL');
      assert.ok(!tables.includes(to.slice(1)), 'number in PostgreSQL');

      const logs = workerLog.join('');
      assert.ok(workerLog.length > 0, 'the worker logged something');
      assert.ok(!logs.includes(marker), 'marker in the worker log');
      assert.ok(!logs.includes(to.slice(1)), 'number in the worker log');

      // Decrypting the workflow's input with the codec key: for `required` the text never left
      // the client, only the notice did; otherwise it is there, sealed by the codec.
      const started = (await raw.workflow.getHandle(sent.workflowId).fetchHistory()).events?.[0];
      const payloads = started?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const [input] = await codecOf(testDataConverter()).decode(payloads);
      const request = JSON.parse(Buffer.from(input?.data ?? []).toString()) as {
        text: string;
        textIsNotice?: boolean;
      };
      if (policy === 'required') {
        assert.ok(!request.text.includes(marker), 'required: the text is not even in the sealed input');
        assert.equal(request.textIsNotice, true);
      } else {
        assert.ok(request.text.includes(marker), 'the sealed input holds the text (codec-encrypted)');
      }
    });
  }
});

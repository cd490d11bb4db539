// Re-records test/histories/*.json from real runs on a fresh test stack:
//   npm run record-histories
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestStack, stopTestStack } from '../fixtures/stack';
import { SCENARIOS } from '../scenarios';

async function main(): Promise<void> {
  const { switchboard, client } = await startTestStack();
  const dir = join(__dirname, '..', '..', '..', 'test', 'histories');
  try {
    for (const scenario of SCENARIOS) {
      const sent = await switchboard.send({ to: scenario.to, text: `recorded ${scenario.name}` });
      const outcome = await switchboard.waitForOutcome(sent.messageId);
      const history = await client.workflow.getHandle(sent.workflowId).fetchHistory();
      writeFileSync(join(dir, `${scenario.name}.json`), historyToJSON(history));
      process.stdout.write(`${scenario.name}: ${outcome.status} over ${outcome.channel ?? '-'}\n`);
    }
  } finally {
    await stopTestStack();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// Re-records test/histories/*.json from real runs on a fresh test stack:
//   npm run record-histories                      # every recording
//   npm run record-histories -- lawful-access     # only those whose name starts so
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestStack, stopTestStack } from '../fixtures/stack';
import { recordLawfulAccess } from './record-lawful-access';
import { SCENARIOS } from '../scenarios';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const wanted = (name: string) => only.length === 0 || only.some((prefix) => name.startsWith(prefix));
  const stack = await startTestStack();
  const { switchboard, client } = stack;
  const dir = join(__dirname, '..', '..', '..', 'test', 'histories');
  // Recordings not re-made this time keep their ids.
  const idsFile = join(dir, 'workflow-ids.txt');
  const ids: Record<string, string> = Object.fromEntries(
    (existsSync(idsFile) ? readFileSync(idsFile, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string]),
  );
  try {
    const runs = [
      ...SCENARIOS.map((s) => ({ name: s.name, to: s.to, extra: {} })),
      {
        name: 'critical-sms-first-with-rcs-copy',
        to: '+15550100007',
        extra: { flow: 'critical', rcsCopy: true },
      },
      { name: 'pilot-both-delivered', to: '+15550200070', extra: { flow: 'pilot' } },
      { name: 'pilot-rcs-offline-sms-wins', to: '+15550500070', extra: { flow: 'pilot' } },
    ];
    for (const scenario of runs.filter((r) => wanted(r.name))) {
      const sent = await switchboard.send({
        to: scenario.to,
        text: `recorded ${scenario.name}`,
        ...scenario.extra,
      });
      const outcome = await switchboard.waitForOutcome(sent.messageId);
      const history = await client.workflow.getHandle(sent.workflowId).fetchHistory();
      writeFileSync(join(dir, `${scenario.name}.json`), historyToJSON(history));
      ids[`${scenario.name}.json`] = sent.workflowId;
      if (outcome.flow === 'pilot') {
        for (const lane of ['rcs', 'sms']) {
          const child = await client.workflow.getHandle(`${sent.workflowId}-${lane}`).fetchHistory();
          writeFileSync(join(dir, `${scenario.name}.${lane}-child.json`), historyToJSON(child));
          ids[`${scenario.name}.${lane}-child.json`] = `${sent.workflowId}-${lane}`;
        }
      }
      process.stdout.write(`${scenario.name}: ${outcome.status} over ${outcome.channel ?? '-'}\n`);
    }
    if (wanted('lawful-access')) {
      await recordLawfulAccess(stack, client, (name, workflowId, json) => {
        writeFileSync(join(dir, `${name}.json`), json);
        ids[`${name}.json`] = workflowId;
        process.stdout.write(`${name}: recorded\n`);
      });
    }
    // Replay needs each history's real workflow id (child ids are derived from it).
    writeFileSync(
      join(dir, 'workflow-ids.txt'),
      Object.entries(ids)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([f, id]) => `${f} ${id}`)
        .join('\n') + '\n',
    );
  } finally {
    await stopTestStack();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

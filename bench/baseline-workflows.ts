import { proxyActivities } from '@temporalio/workflow';

// Baseline A: the least a workflow can cost on this server and worker — one no-op activity.
const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function baselineWorkflow(): Promise<void> {
  await noop();
}

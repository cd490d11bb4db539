import { clusterStack, startClusterStack, stopClusterStack } from './cluster-stack';

// One cluster for the whole `npm run test:cluster` run: the server and four processes take a while.
export async function mochaGlobalSetup(): Promise<void> {
  await startClusterStack();
  process.stdout.write(`  cluster up in ${clusterStack().startSeconds.toFixed(1)} s\n`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopClusterStack();
}

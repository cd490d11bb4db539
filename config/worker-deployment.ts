import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths';
import type { Env } from './schema';
import { taskQueues } from './task-queues';

/** Which build of which deployment a delivery worker is (Temporal's worker versioning). */
export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/** `<package version>-<short commit>`; the version alone where there is no git checkout (an image). */
function defaultBuildId(): string {
  const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    })
      .toString()
      .trim();
    return /^[0-9a-f]+$/.test(commit) ? `${version}-${commit}` : version;
  } catch {
    return version;
  }
}

/** The delivery workers' deployment: named after the delivery task queue unless configured. */
export function deploymentName(env: Pick<Env, 'WORKER_DEPLOYMENT_NAME' | 'TEMPORAL_TASK_QUEUE'>): string {
  return env.WORKER_DEPLOYMENT_NAME ?? taskQueues(env).delivery.replace(/[^A-Za-z0-9_-]/g, '-');
}

/** Read once per process, at start-up. */
export function deploymentVersion(
  env: Pick<Env, 'WORKER_DEPLOYMENT_NAME' | 'WORKER_BUILD_ID' | 'TEMPORAL_TASK_QUEUE'>,
): DeploymentVersion {
  return { deploymentName: deploymentName(env), buildId: env.WORKER_BUILD_ID ?? defaultBuildId() };
}

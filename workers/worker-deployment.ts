import type { Logger } from 'pino';
import type { Env } from '../config';
import type { DeploymentVersion } from '../config/worker-deployment';
import { notPolledYet } from '../client/worker-deployments';
import type { WorkerDeployments } from '../client/worker-deployments';

const ASK_AGAIN_MS = 250;

/**
 * Run once a delivery worker polls. A deployment with no current build sends new messages
 * nowhere a versioned worker looks, so the first build makes itself current (and `always`, as
 * npm start's single process, makes itself current whatever ran before). Any later build of a
 * running deployment waits for an operator's `switchboard deploy ramp | promote`.
 */
export async function takeNewMessagesIfFirst(options: {
  deployments: WorkerDeployments;
  version: DeploymentVersion;
  policy: Env['WORKER_DEPLOYMENT_PROMOTE'];
  logger: Logger;
  timeoutMs?: number;
}): Promise<void> {
  const { deployments, version, logger } = options;
  const { deploymentName, buildId } = version;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const status = await deployments.status(deploymentName);
    if (status?.current === buildId) return;
    if (status?.current && options.policy === 'first') {
      logger.info(
        { deployment: deploymentName, buildId, current: status.current, ramping: status.ramping },
        'another build is current: this one takes new messages once ramped or promoted (switchboard deploy)',
      );
      return;
    }
    // The server learns of a build from its pollers, a moment after the worker starts.
    if (status?.builds.some((b) => b.buildId === buildId)) {
      try {
        await deployments.promote(deploymentName, buildId, 'worker start');
        logger.info({ deployment: deploymentName, buildId }, 'this build is current');
        return;
      } catch (err) {
        if (!notPolledYet(err)) throw err;
      }
    }
    if (Date.now() > deadline)
      throw new Error(
        `deployment ${deploymentName}: build ${buildId} was not seen polling within ${options.timeoutMs ?? 60_000} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, ASK_AGAIN_MS));
  }
}

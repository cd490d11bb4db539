// Which build of the delivery workers takes new messages, over Temporal's worker-deployment APIs
// (worker versioning). Messages are PINNED: a change here routes new messages only; each one
// finishes on the build it started on. Every change is recorded in deployment_changes.
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { ValidationError } from '../domain/delivery-request';
import type { DeploymentChanges, RecordedDeploymentChange } from '../store/deployment-changes';

const VersionStatus = temporal.api.enums.v1.WorkerDeploymentVersionStatus;

export interface DeploymentBuild {
  buildId: string;
  /** current, ramping, draining, drained, inactive. */
  status: string;
}

export interface DeploymentStatus {
  deployment: string;
  current: string | null;
  ramping: string | null;
  rampPercent: number;
  builds: DeploymentBuild[];
}

export class NothingToRollBackError extends Error {
  override readonly name = 'NothingToRollBackError';
}

const GRPC_NOT_FOUND = 5;
const GRPC_FAILED_PRECONDITION = 9;

const grpcCode = (err: unknown): number | undefined => (err as { code?: unknown }).code as number | undefined;

/** The server has not seen this deployment or build poll yet: worth asking again shortly. */
export function notPolledYet(err: unknown): boolean {
  const code = grpcCode(err);
  return code === GRPC_NOT_FOUND || code === GRPC_FAILED_PRECONDITION;
}

function statusName(status: number | null | undefined): string {
  const name = VersionStatus[status ?? 0] ?? 'UNSPECIFIED';
  return name.replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '').toLowerCase();
}

export class WorkerDeployments {
  constructor(
    private readonly client: Client,
    private readonly namespace: string,
    private readonly changes: DeploymentChanges,
    private readonly identity: string,
  ) {}

  /** Null when no worker of the deployment has polled yet. */
  async status(deployment: string): Promise<DeploymentStatus | null> {
    let info;
    try {
      ({ workerDeploymentInfo: info } = await this.client.workflowService.describeWorkerDeployment({
        namespace: this.namespace,
        deploymentName: deployment,
      }));
    } catch (err) {
      if (grpcCode(err) === GRPC_NOT_FOUND) return null;
      throw err;
    }
    const routing = info?.routingConfig;
    return {
      deployment,
      current: routing?.currentDeploymentVersion?.buildId || null,
      ramping: routing?.rampingDeploymentVersion?.buildId || null,
      rampPercent: routing?.rampingVersionPercentage ?? 0,
      builds: (info?.versionSummaries ?? []).map((v) => ({
        buildId: v.deploymentVersion?.buildId ?? '',
        status: statusName(v.status),
      })),
    };
  }

  async history(deployment: string): Promise<RecordedDeploymentChange[]> {
    return this.changes.history(deployment);
  }

  /** `buildId` takes every new message; the ramp, if it was ramping, ends. */
  async promote(deployment: string, buildId: string, note: string | null = null) {
    const before = await this.known(deployment, buildId);
    await this.client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: this.namespace,
      deploymentName: deployment,
      buildId,
      identity: this.identity,
    });
    return this.record(before, { action: 'promote', buildId, rampPercent: null, note });
  }

  /** `percent` of new messages go to `buildId`, the rest to the current build. */
  async ramp(deployment: string, buildId: string, percent: number, note: string | null = null) {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100)
      throw new ValidationError('percent', 'a number from 0 to 100');
    const before = await this.known(deployment, buildId);
    if (before.current === buildId)
      throw new ValidationError('buildId', `a build other than the current one (${buildId} is current)`);
    await this.setRamping(deployment, buildId, percent);
    return this.record(before, { action: 'ramp', buildId, rampPercent: percent, note });
  }

  /**
   * New messages go back to what took them before the last change: a ramp ends (all to the
   * current build), or, with no ramp, the build that was current before this one is current again.
   */
  async rollback(deployment: string, note: string | null = null) {
    const before = await this.status(deployment);
    if (before?.ramping) {
      await this.setRamping(deployment, '', 0);
      return this.record(before, { action: 'rollback', buildId: before.current, rampPercent: null, note });
    }
    const previous = before?.current ? await this.changes.currentBefore(deployment, before.current) : null;
    if (!before || !previous)
      throw new NothingToRollBackError(
        `deployment ${deployment}: nothing to roll back (no ramp, and no earlier current build recorded)`,
      );
    await this.client.workflowService.setWorkerDeploymentCurrentVersion({
      namespace: this.namespace,
      deploymentName: deployment,
      buildId: previous,
      identity: this.identity,
    });
    return this.record(before, { action: 'rollback', buildId: previous, rampPercent: null, note });
  }

  private async setRamping(deployment: string, buildId: string, percentage: number): Promise<void> {
    await this.client.workflowService.setWorkerDeploymentRampingVersion({
      namespace: this.namespace,
      deploymentName: deployment,
      buildId,
      percentage,
      identity: this.identity,
    });
  }

  /** The deployment as it is, refusing a build none of its workers has run. */
  private async known(deployment: string, buildId: string): Promise<DeploymentStatus> {
    const before = await this.status(deployment);
    const builds = before?.builds.map((b) => b.buildId) ?? [];
    if (!builds.includes(buildId))
      throw new ValidationError(
        'buildId',
        builds.length
          ? `a build of deployment ${deployment} whose workers have polled: ${builds.join(', ')}`
          : `a build of deployment ${deployment}, which no worker has polled yet`,
      );
    return before as DeploymentStatus;
  }

  private record(
    before: DeploymentStatus,
    change: Pick<RecordedDeploymentChange, 'action' | 'buildId' | 'rampPercent' | 'note'>,
  ): Promise<RecordedDeploymentChange> {
    return this.changes.record({
      deployment: before.deployment,
      previousCurrent: before.current,
      previousRamping: before.ramping,
      actor: this.identity,
      ...change,
    });
  }
}

import { Worker } from '@temporalio/worker';
import { createGuardActivities, createLawfulAccessActivities } from '../../activities';
import { accessRequestKek } from '../../config/access-request-kek';
import { taskQueues } from '../../config/task-queues';
import { AccessRequests } from '../../store/access-requests';
import { AuditLog } from '../../store/audit-log';
import { EscrowStore } from '../../store/escrow-store';
import type { GuardStore } from '../../store/rollout/guard-store';
import type { RolloutStore } from '../../store/rollout/rollout-store';
import { startAccessRequestSweeper } from '../access-request-sweeper';
import type { RoleContext } from './context';

/**
 * The lawful-access worker (`--services lawful-access`): the only process that reads
 * ACCESS_REQUEST_KEK, on a task queue of its own, with the sweeper that expires old requests.
 */
export async function createLawfulAccessWorker(ctx: RoleContext): Promise<Worker> {
  const { env, db, opened } = ctx;
  const audit = new AuditLog(db, ctx.secrets.auditHashKey);
  const requests = new AccessRequests(db, accessRequestKek(env));
  const sweeper = startAccessRequestSweeper({
    requests,
    audit,
    logger: ctx.logger.child({ component: 'lawful-access' }),
    everyMs: env.ACCESS_REQUEST_SWEEP_MS,
  });
  opened.push(() => Promise.resolve(sweeper.stop()));
  return Worker.create({
    connection: ctx.connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: taskQueues(env).lawfulAccess,
    workflowBundle: await ctx.workflowBundle(),
    activities: createLawfulAccessActivities({ escrows: new EscrowStore(db), requests, audit }),
    dataConverter: ctx.dataConverter,
  });
}

/** The rollout guards' worker (`--services guards`), on the guards-and-probes task queue. */
export async function createGuardsWorker(
  ctx: RoleContext,
  deps: { guard: GuardStore; rollout: RolloutStore },
): Promise<Worker> {
  return Worker.create({
    connection: ctx.connection,
    namespace: ctx.env.TEMPORAL_NAMESPACE,
    taskQueue: taskQueues(ctx.env).guards,
    workflowBundle: await ctx.workflowBundle(),
    activities: createGuardActivities(deps),
    dataConverter: ctx.dataConverter,
  });
}

import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AccessStatus, CustodianApproval } from '../domain/lawful-access';

/** A custodian hands in their share (sealed to the request's key). */
export const custodianApprovalSignal = defineSignal<[CustodianApproval]>('custodianApproval');
export const accessStatusQuery = defineQuery<AccessStatus>('accessStatus');

// POST /v1/e2ee/keyPackages:claim — the recipient's KeyPackages for an app that seals E2EE itself,
// with its API key alone (no key directory token). The same answer as the key directory's own
// route (e2ee/key-directory-http.ts), one-time packages consumed alike; the per-tenant rate limit
// applies as on every route. The number is personal data: never logged, never in an error.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from 'pino';
import { validRecipient } from '../../domain/delivery-request';
import { ValidationError } from '../../domain/delivery-request';
import type { KeyPackageSource } from '../../e2ee/key-directory';
import type { KeyPackagesClaimResponse } from '../../e2ee/key-directory-http';
import { problem, problemResponses, problemSchema, sendProblem } from '../problem';
import { tenantOf } from '../auth';
import type { EscrowMemberSource } from '../../e2ee/escrow-member-http';

export const API_KEY_PACKAGES_PATH = '/v1/e2ee/keyPackages:claim';
/** The key's tenant's escrow member, which its apps add to every new group (README, escrow). */
export const API_ESCROW_MEMBER_PATH = '/v1/e2ee/escrowMember';

const escrowMemberSchema = z
  .object({
    escrow: z
      .object({
        escrowId: z.string(),
        keyPackages: z.array(z.string().describe('MLSMessage-encoded KeyPackage, base64')),
      })
      .nullable()
      .describe('null: the tenant is not escrowed'),
  })
  .meta({ id: 'EscrowMember' });

const claimSchema = z
  .strictObject({
    msisdn: z
      .string()
      .superRefine((value, ctx) => {
        try {
          validRecipient(value);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          ctx.addIssue({ code: 'custom', message: err.expected });
        }
      })
      .describe('The recipient, E.164'),
  })
  .meta({ id: 'KeyPackagesClaim' });

const claimedSchema = z
  .object({
    devices: z.array(
      z.object({
        deviceId: z.string(),
        keyPackage: z.string().describe('MLSMessage-encoded KeyPackage, base64'),
        lastResort: z.boolean().describe('The device’s last-resort package (its one-time ones ran out)'),
      }),
    ),
  })
  .meta({ id: 'KeyPackagesClaimed' });

export const keyPackageRoutes: FastifyPluginAsyncZod<{
  directory: KeyPackageSource;
  escrowMembers: EscrowMemberSource;
  logger: Logger;
}> = (app, options) => {
  app.get(
    API_ESCROW_MEMBER_PATH,
    {
      config: { scope: 'send' },
      schema: {
        summary: 'The escrow member of the key’s tenant, for the app to add to every new MLS group',
        tags: ['e2ee'],
        security: [{ apiKey: [] }],
        response: { 200: escrowMemberSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const record = await options.escrowMembers.activeEscrow(tenantOf(request));
      const escrow = record && {
        escrowId: record.escrowId,
        keyPackages: record.keyPackages.map((k) => Buffer.from(k).toString('base64')),
      };
      return reply.header('cache-control', 'no-store').send({ escrow });
    },
  );

  app.post(
    API_KEY_PACKAGES_PATH.replace(':claim', '::claim'),
    {
      config: { scope: 'send' },
      bodyLimit: 4096,
      schema: {
        summary: 'Claim the recipient’s MLS KeyPackages, one per device, to seal a message in the app',
        tags: ['e2ee'],
        security: [{ apiKey: [] }],
        body: claimSchema,
        response: {
          200: claimedSchema,
          ...problemResponses,
          404: problemSchema.describe('No KeyPackages are published for this number'),
        },
      },
    },
    async (request, reply) => {
      const claimed = await options.directory.claim(request.body.msisdn);
      if (claimed.length === 0)
        return sendProblem(reply, problem(404, 'No KeyPackages are published for this number.'));
      options.logger.debug({ devices: claimed.length }, 'API: key packages claimed');
      const answer: KeyPackagesClaimResponse = {
        devices: claimed.map((c) => ({
          deviceId: c.deviceId,
          keyPackage: Buffer.from(c.keyPackage).toString('base64'),
          lastResort: c.lastResort,
        })),
      };
      // One-time packages are consumed by this answer: no cache may serve it twice.
      return reply.header('cache-control', 'no-store').send(answer);
    },
  );
  return Promise.resolve();
};

import { z } from 'zod';

/** Endpoints of one residency region; credentials default to the home region's. */
export const regionEndpointSchema = z.object({
  rcsHubUrl: z.url(),
  rcsAgentId: z.string().min(1).optional(),
  rcsHubToken: z.string().min(1).optional(),
  smppHost: z.string().min(1).default('127.0.0.1'),
  smppPort: z.number().int().min(1).max(65535),
  smppSystemId: z.string().min(1).max(15).optional(),
  smppPassword: z.string().max(8).optional(),
  smppSourceAddr: z.string().min(1).max(20).optional(),
});

export type RegionEndpoint = z.infer<typeof regionEndpointSchema>;

/** REGION_ENDPOINTS: a JSON object, region → endpoints. */
export const regionEndpointsSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'JSON object {"region": {"rcsHubUrl": …, "smppPort": …}}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^[a-z0-9-]+$/), regionEndpointSchema));

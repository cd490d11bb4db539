import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { HttpMeter } from '../channels/http-meter';
import { labelValue } from './registry';
import type { SwitchboardMetrics } from './registry';

/** GET /metrics in the Prometheus text format, on its own port (METRICS_HOST:METRICS_PORT). */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: SwitchboardMetrics;
  /** More routes on the same server (the operator dashboard). */
  routes?: (server: FastifyInstance) => void;
}): Promise<{ url: string; server: FastifyInstance }> {
  const server = Fastify({ logger: false, forceCloseConnections: true });
  options.routes?.(server);
  server.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await options.metrics.exposition();
    return reply.type(contentType).send(body);
  });
  const address = await server.listen({ host: options.host, port: options.port });
  return { url: `${address}/metrics`, server };
}

/** The meter one HTTP server (`process`: receipts, shortlinks) hands its requests to. */
export function httpMeter(metrics: SwitchboardMetrics, process: string): HttpMeter {
  return {
    request(route, status) {
      metrics.httpRequests.inc({ process, route: labelValue(route), status: labelValue(status) });
    },
  };
}

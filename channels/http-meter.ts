import type { FastifyInstance } from 'fastify';

/** Counts a server's answered requests (metrics), by route pattern — never the URL, which holds tokens. */
export interface HttpMeter {
  request(route: string, status: number): void;
}

/** Every answer of `server` reaches the meter; a request no route matched counts as 'unmatched'. */
export function meterRequests(server: FastifyInstance, meter: HttpMeter | undefined): void {
  if (!meter) return;
  server.addHook('onResponse', (request, reply, done) => {
    meter.request(request.routeOptions.url ?? 'unmatched', reply.statusCode);
    done();
  });
}

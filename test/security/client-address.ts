// Distinct clients over real loopback sockets: Linux routes all of 127.0.0.0/8 to lo, so a
// client bound to 127.0.0.2 is, to the server, another address than one on 127.0.0.1.

import { Agent } from 'undici';

const agents = new Map<string, Agent>();

/** An undici dispatcher whose connections leave from `localAddress` (127.x.y.z). */
export function from(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

export async function closeClients(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

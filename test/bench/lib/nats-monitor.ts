// Per-connection message counts from nats-server's monitoring endpoint (/connz): messages a
// client published (in_msgs, as the server counts them) and messages delivered to it (out_msgs).

export interface ConnCounters {
  name: string;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  subscriptions: number;
}

interface ConnzResponse {
  connections?: Array<{
    name?: string;
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
    subscriptions: number;
  }>;
}

/** Counters of every open connection, summed by client name. */
export async function connz(monitorUrl: string): Promise<Map<string, ConnCounters>> {
  const res = await fetch(`${monitorUrl}/connz?limit=100000`);
  if (!res.ok) throw new Error(`GET /connz: HTTP ${res.status}`);
  const body = (await res.json()) as ConnzResponse;
  const out = new Map<string, ConnCounters>();
  for (const c of body.connections ?? []) {
    const name = c.name ?? '';
    const prev = out.get(name) ?? { name, inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, subscriptions: 0 };
    prev.inMsgs += c.in_msgs;
    prev.outMsgs += c.out_msgs;
    prev.inBytes += c.in_bytes;
    prev.outBytes += c.out_bytes;
    prev.subscriptions += c.subscriptions;
    out.set(name, prev);
  }
  return out;
}

/** after − before for one client name (zeros when it was not connected). */
export function delta(
  before: Map<string, ConnCounters>,
  after: Map<string, ConnCounters>,
  name: string,
): ConnCounters {
  const zero = { name, inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, subscriptions: 0 };
  const a = after.get(name) ?? zero;
  const b = before.get(name) ?? zero;
  return {
    name,
    inMsgs: a.inMsgs - b.inMsgs,
    outMsgs: a.outMsgs - b.outMsgs,
    inBytes: a.inBytes - b.inBytes,
    outBytes: a.outBytes - b.outBytes,
    subscriptions: a.subscriptions,
  };
}

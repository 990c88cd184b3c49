import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Balancer, Endpoint } from '../table/balancer';
import type { RouteSettings } from '../routes/route-settings';
import type { RouteTarget } from '../table/route-table';
import { UpstreamDispatcher, type ResponseSink } from './upstream-dispatcher';

/** What the dispatcher told the sink about one request. */
interface Outcome {
  status?: number;
  body: string;
  failures: string[];
  error?: string;
  sentTo: string[];
}

/** An upstream on a loopback port whose answer to each request `answer` decides (`undefined`: the connection is cut unanswered). */
async function upstream(answer: (request: number) => string | undefined): Promise<{ endpoint: Endpoint; requests: () => number; server: Server }> {
  let requests = 0;
  const server = createServer((req, res) => {
    const body = answer(++requests);
    if (body === undefined) req.socket.destroy();
    else res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: new Endpoint('127.0.0.1', (server.address() as AddressInfo).port), requests: () => requests, server };
}

function send(dispatcher: UpstreamDispatcher, endpoints: Endpoint[]): Promise<Outcome> {
  const balancer = new Balancer('roundrobin', endpoints.map((endpoint) => ({ endpoint, weight: 1 })), { next: 0 });
  const target = { balancer, settings: { timeoutMs: 5_000 } as RouteSettings } as RouteTarget;
  return new Promise((resolve) => {
    const outcome: Outcome = { body: '', failures: [], sentTo: [] };
    const sink: ResponseSink = {
      sending: (endpoint) => outcome.sentTo.push(endpoint.address),
      failed: (code) => outcome.failures.push(code),
      start: (status: number, _headers: IncomingHttpHeaders) => (outcome.status = status),
      data: (chunk) => ((outcome.body += chunk.toString()), true),
      onDrain: () => undefined,
      end: () => resolve(outcome),
      error: (code) => resolve({ ...outcome, error: code }),
      onClientGone: () => undefined,
    };
    dispatcher.dispatch({ target, endpoint: endpoints[0], method: 'GET', path: '/', headers: {}, body: null, retriable: true }, sink);
  });
}

describe('UpstreamDispatcher retries', () => {
  const servers: Server[] = [];
  let dispatcher: UpstreamDispatcher;
  beforeEach(() => (dispatcher = new UpstreamDispatcher()));
  afterEach(async () => {
    await dispatcher.close();
    for (const server of servers.splice(0)) server.close();
  });
  const started = async (answer: (request: number) => string | undefined) => {
    const made = await upstream(answer);
    servers.push(made.server);
    return made;
  };

  it('sends a request again to the only endpoint when it cut the connection unanswered', async () => {
    const pod = await started((n) => (n === 1 ? undefined : 'second try'));
    const outcome = await send(dispatcher, [pod.endpoint]);
    expect(outcome).toMatchObject({ status: 200, body: 'second try' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.sentTo).toEqual([pod.endpoint.address, pod.endpoint.address]);
    expect(outcome.failures).toHaveLength(1);
  });

  it('tries another endpoint before trying one that failed again', async () => {
    const dying = await started(() => undefined);
    const healthy = await started(() => 'healthy');
    const outcome = await send(dispatcher, [dying.endpoint, healthy.endpoint]);
    expect(outcome).toMatchObject({ status: 200, body: 'healthy' });
    expect(outcome.sentTo).toEqual([dying.endpoint.address, healthy.endpoint.address]);
  });

  it('gives up after three attempts on an endpoint that cuts every connection', async () => {
    const broken = await started(() => undefined);
    const outcome = await send(dispatcher, [broken.endpoint]);
    expect(outcome.error).toBeDefined();
    expect(outcome.status).toBeUndefined();
    expect(broken.requests()).toBe(3);
  });

  it('does not try an endpoint that refused the connection again, and leaves it out', async () => {
    const gone = await started(() => 'never');
    await new Promise((resolve) => gone.server.close(resolve));
    const outcome = await send(dispatcher, [gone.endpoint]);
    expect(outcome).toMatchObject({ error: 'ECONNREFUSED', sentTo: [gone.endpoint.address] });
    expect(gone.endpoint.healthy(Date.now())).toBe(false);
  });
});

import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Endpoint } from '../table/balancer';

/** Where an upgrade goes, or the status it is refused with. */
export type UpgradeDecision = { endpoint: Endpoint; headers: IncomingHttpHeaders } | { status: number };

const REASONS: Record<number, string> = { 403: 'Forbidden', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable' };
/** How long an endpoint may take to accept the connection of an upgrade. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * WebSocket (and any `Upgrade`) requests: once the route and endpoint are chosen, the
 * request is written to a new connection to the endpoint and the two sockets are piped
 * both ways, as HAProxy does in tunnel mode; the endpoint's handshake answer reaches the
 * client untouched. Fastify never sees an upgrade, so @fastify/http-proxy's own WebSocket
 * support (a second WebSocket server and client per connection) is not used.
 */
export class WebSocketTunnel {
  private readonly open = new Set<Socket>();

  constructor(private readonly decide: (request: IncomingMessage) => UpgradeDecision) {}

  handle(request: IncomingMessage, client: Socket, head: Buffer): void {
    client.on('error', () => client.destroy());
    const decision = this.decide(request);
    if ('status' in decision) return refuse(client, decision.status);
    const { endpoint, headers } = decision;
    const upstream = net.connect({ host: endpoint.ip, port: endpoint.port, timeout: CONNECT_TIMEOUT_MS });
    this.track(client);
    this.track(upstream);
    upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.once('error', () => {
      if (!upstream.readyState.startsWith('open') && client.writable) refuse(client, 502);
      else client.destroy();
    });
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.write(requestHead(request, headers));
      if (head.length) upstream.write(head);
      upstream.pipe(client).on('error', () => upstream.destroy());
      client.pipe(upstream).on('error', () => client.destroy());
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }

  /** Ends every tunnel (the router is shutting down). */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  private track(socket: Socket): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
  }
}

function refuse(client: Socket, status: number): void {
  client.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The request line and headers as the endpoint is to get them. */
function requestHead(request: IncomingMessage, headers: IncomingHttpHeaders): string {
  let head = `${request.method} ${request.url} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
  }
  return `${head}\r\n`;
}

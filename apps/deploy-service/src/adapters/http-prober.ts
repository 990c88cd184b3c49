import { UNTRACED_USER_AGENT } from '@paas/platform/tracing';
import net from 'node:net';
import { Agent, request } from 'undici';

/** One probe of a container: an HTTP GET that answers 200–399 in time, or a TCP connection that opens in time. */
export interface HttpProber {
  probe(url: string, timeoutMs: number): Promise<boolean>;
  connects(host: string, port: number, timeoutMs: number): Promise<boolean>;
}

/** Connections to probed pods stay open between probes; an idle one closes after this. */
const KEEP_ALIVE_MS = 30_000;
/** A readiness answer is read up to this much; a longer one still counts by its status. */
const BODY_LIMIT_BYTES = 64 * 1024;

/** Probes over kept-alive connections (undici's pool per pod address). */
export class KeepAliveProber implements HttpProber {
  private readonly agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connections: 1 });

  async probe(url: string, timeoutMs: number): Promise<boolean> {
    try {
      const { statusCode, body } = await request(url, {
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        // Also bounds the connect, which the timeouts above do not.
        signal: AbortSignal.timeout(timeoutMs),
        // Probes run on a timer for every pod: they are not traced (tracing.ts).
        headers: { 'user-agent': UNTRACED_USER_AGENT },
      });
      await body.dump({ limit: BODY_LIMIT_BYTES });
      return statusCode >= 200 && statusCode < 400;
    } catch {
      return false;
    }
  }

  connects(host: string, port: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host, port, timeout: timeoutMs });
      const end = (opened: boolean) => {
        socket.destroy();
        resolve(opened);
      };
      socket.once('connect', () => end(true));
      socket.once('timeout', () => end(false));
      socket.once('error', () => end(false));
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

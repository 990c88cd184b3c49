/** One readiness check: an HTTP GET that answers 200–399 in time. */
export interface HttpProber {
  probe(url: string, timeoutMs: number): Promise<boolean>;
}

export class FetchProber implements HttpProber {
  async probe(url: string, timeoutMs: number): Promise<boolean> {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { 'user-agent': 'paas-probe/1.0' } });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400;
    } catch {
      return false;
    }
  }
}

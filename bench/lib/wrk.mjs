// wrk's report as numbers: what the HTTP benchmarks share.

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1000 };

/** `123.45us`, `1.20ms`, `2.00s` as milliseconds. */
export const milliseconds = (text) => {
  const [, value, unit] = /^([\d.]+)(us|ms|s)$/.exec(text);
  return Number(value) * TIME_UNITS[unit];
};

/** Requests, req/s, p50/p99 (ms, from `--latency`) and errors (non-2xx/3xx answers and socket errors) of one wrk run. */
export function parseWrk(out) {
  const field = (pattern) => {
    const match = pattern.exec(out);
    if (!match) throw new Error(`unexpected wrk output:\n${out}`);
    return match[1];
  };
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(field(/(\d+) requests in/)),
    rps: Number(field(/Requests\/sec:\s+([\d.]+)/)),
    p50: milliseconds(field(/^\s+50%\s+(\S+)/m)),
    p99: milliseconds(field(/^\s+99%\s+(\S+)/m)),
    errors: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  };
}

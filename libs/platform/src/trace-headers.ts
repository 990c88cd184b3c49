import { context, propagation, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from 'nats';

/** W3C trace context into NATS message headers (there is no NATS instrumentation). */
export function injectTraceHeaders(ctx: Context = context.active()): MsgHdrs {
  const hdrs = natsHeaders();
  propagation.inject(ctx, hdrs, { set: (carrier, key, value) => carrier.set(key, value) });
  return hdrs;
}

export function extractTraceContext(hdrs: MsgHdrs | undefined): Context {
  if (!hdrs) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, hdrs, {
    get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
    keys: (carrier) => carrier.keys(),
  });
}

import type { RpcMethod, RpcReply, RpcRequest, RpcResponse } from '@paas/contracts/rpc';
import { busNames } from '@paas/platform/bus-names';
import type { NatsConnection } from 'nats';

/** Requests to the platform's services over `nats`, as the gateway makes them: `rpc` answers the reply, `ok` its result or throws the Status. */
export function busRpc(nats: () => NatsConnection) {
  async function rpc<M extends RpcMethod>(method: M, request: RpcRequest<M>): Promise<RpcReply<RpcResponse<M>>> {
    const message = await nats().request(busNames().rpc(method), JSON.stringify(request), { timeout: 15_000 });
    return message.json<RpcReply<RpcResponse<M>>>();
  }
  async function ok<M extends RpcMethod>(method: M, request: RpcRequest<M>): Promise<RpcResponse<M>> {
    const reply = await rpc(method, request);
    if (!reply.ok) throw new Error(`${method}: ${reply.status.code} ${reply.status.message}`);
    return reply.result;
  }
  return { rpc, ok };
}

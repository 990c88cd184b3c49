import net from 'node:net';
import { adminPortCandidates, extraListenAddresses, listenOnFirstFree, replicaSlot, sharedPort } from './ports';

describe('replica ports', () => {
  it('share the public port and move it with PAAS_PORT_OFFSET; a variable set wins', () => {
    expect(sharedPort(8000, 'PORT', {})).toBe(8000);
    expect(sharedPort(8000, 'PORT', { PAAS_PORT_OFFSET: '1000', PAAS_REPLICA: '3' })).toBe(9000);
    expect(sharedPort(8000, 'PORT', { PAAS_PORT_OFFSET: '1000', PORT: '0' })).toBe(0);
  });

  it('give each replica its own admin port, base + offset + 100 × replica', () => {
    expect(adminPortCandidates(8001, ['PAAS_ADMIN_PORT'], { PAAS_REPLICA: '0' })).toEqual([{ port: 8001, slot: 0 }]);
    expect(adminPortCandidates(8001, ['PAAS_ADMIN_PORT'], { PAAS_REPLICA: '2', PAAS_PORT_OFFSET: '1000' })).toEqual([{ port: 9201, slot: 2 }]);
    expect(adminPortCandidates(8090, ['PORT', 'ROUTER_ADMIN_PORT'], { ROUTER_ADMIN_PORT: '7000', PAAS_REPLICA: '1' })).toEqual([{ port: 7000, slot: 1 }]);
  });

  it('offer every slot in order to a replica that was not told which it is', () => {
    const slots = adminPortCandidates(5001, ['PAAS_ADMIN_PORT'], {});
    expect(slots).toHaveLength(10);
    expect(slots.slice(0, 3)).toEqual([{ port: 5001, slot: 0 }, { port: 5101, slot: 1 }, { port: 5201, slot: 2 }]);
  });

  it('refuse bad values with the variable named', () => {
    expect(() => sharedPort(8000, 'PORT', { PAAS_PORT_OFFSET: 'abc' })).toThrow('PAAS_PORT_OFFSET must be a whole number');
    expect(() => adminPortCandidates(8001, ['PAAS_ADMIN_PORT'], { PAAS_REPLICA: '10' })).toThrow('PAAS_REPLICA must be a whole number from 0 to 9');
    expect(() => sharedPort(8443, 'PORT', { PAAS_PORT_OFFSET: '60000' })).toThrow('PAAS_PORT_OFFSET is too large');
    expect(() => sharedPort(8080, 'ROUTER_HTTP_PORT', { ROUTER_HTTP_PORT: '80a' })).toThrow('ROUTER_HTTP_PORT must be');
  });

  it('take extra listen addresses but never a wildcard', () => {
    expect(extraListenAddresses({ PAAS_EXTRA_LISTEN: '10.250.1.1, 10.250.2.1' })).toEqual(['10.250.1.1', '10.250.2.1']);
    expect(extraListenAddresses({})).toEqual([]);
    expect(() => extraListenAddresses({ PAAS_EXTRA_LISTEN: '0.0.0.0' })).toThrow('every interface');
    expect(() => extraListenAddresses({ PAAS_EXTRA_LISTEN: '::' })).toThrow('every interface');
    expect(() => extraListenAddresses({ PAAS_EXTRA_LISTEN: 'registry.local' })).toThrow('not an IP address');
  });

  it('listen on the first free admin slot and remember it', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    const tried: number[] = [];
    const chosen = await listenOnFirstFree([{ port: takenPort, slot: 0 }, { port: 0, slot: 1 }], async (port) => {
      tried.push(port);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      server.close();
    });
    taken.close();
    expect(tried).toEqual([takenPort, 0]);
    expect(chosen.slot).toBe(1);
    expect(replicaSlot()).toBe(1);
  });
});

import net from 'node:net';
import { KeepAliveProber } from './http-prober';

describe('KeepAliveProber.connects (tcpSocket probes)', () => {
  const prober = new KeepAliveProber();
  afterAll(() => prober.close());

  it('is true for a port that accepts a connection and false once nothing listens there', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    expect(await prober.connects('127.0.0.1', port, 1_000)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(await prober.connects('127.0.0.1', port, 1_000)).toBe(false);
  });
});

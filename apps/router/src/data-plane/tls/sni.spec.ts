import net from 'node:net';
import tls from 'node:tls';
import { MAX_CLIENT_HELLO_BYTES, peekServerName } from './sni';

/**
 * The first TLS record a real client (node's tls.connect, OpenSSL underneath) sends to a
 * plain TCP server, which records the bytes and hangs up.
 */
async function capturedHello(options: tls.ConnectionOptions): Promise<Buffer> {
  let received = Buffer.alloc(0);
  let done!: (hello: Buffer) => void;
  const hello = new Promise<Buffer>((resolve) => (done = resolve));
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 5 && received.length >= 5 + received.readUInt16BE(3)) {
        done(received);
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...options });
  client.on('error', () => undefined);
  try {
    return await hello;
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The same handshake bytes re-cut into records of at most `size` bytes each. */
function recut(hello: Buffer, size: number): Buffer {
  const handshake = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const records: Buffer[] = [];
  for (let offset = 0; offset < handshake.length; offset += size) {
    const fragment = handshake.subarray(offset, offset + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    records.push(header, fragment);
  }
  return Buffer.concat(records);
}

/** A minimal ClientHello record whose server_name extension holds `entries` (type, name bytes). */
function syntheticHello(entries: [number, Buffer][]): Buffer {
  const list = Buffer.concat(entries.map(([type, name]) => Buffer.concat([Buffer.from([type]), u16(name.length), name])));
  const serverName = Buffer.concat([u16(0), u16(list.length + 2), u16(list.length), list]);
  const otherExtension = Buffer.concat([u16(0x000b), u16(2), Buffer.from([1, 0])]); // ec_point_formats first
  const extensions = Buffer.concat([otherExtension, serverName]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([0]), // no session id
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]), // null compression
    u16(extensions.length),
    extensions,
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** Deterministic bytes (xorshift), so a failing garbage case can be replayed. */
function pseudoRandom(seed: number): () => number {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) & 0xff;
  };
}

describe('peekServerName', () => {
  let tls13: Buffer;
  let tls12: Buffer;
  let withoutSni: Buffer;

  beforeAll(async () => {
    tls13 = await capturedHello({ servername: 'shop.apps.example' });
    tls12 = await capturedHello({ servername: 'legacy.apps.example', maxVersion: 'TLSv1.2' });
    withoutSni = await capturedHello({}); // an IP address as host: node sends no server_name
  });

  it("reads the server name from node's TLS 1.3 and TLS 1.2 ClientHellos", () => {
    expect(peekServerName(tls13)).toEqual({ complete: true, serverName: 'shop.apps.example' });
    expect(peekServerName(tls12)).toEqual({ complete: true, serverName: 'legacy.apps.example' });
  });

  it('answers complete without a name when the client sent no server_name', () => {
    expect(peekServerName(withoutSni)).toEqual({ complete: true });
  });

  it('asks for more bytes on every truncation of a real hello, and only then', () => {
    for (let length = 0; length < tls13.length; length++) {
      expect([length, peekServerName(tls13.subarray(0, length))]).toEqual([length, { complete: false }]);
    }
    // TLS 1.3 early data: a ChangeCipherSpec and application data right behind the hello.
    const early = Buffer.concat([tls13, Buffer.from([20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3, 1, 2, 3])]);
    expect(peekServerName(early)).toEqual({ complete: true, serverName: 'shop.apps.example' });
  });

  it('gathers a hello fragmented over several handshake records', () => {
    const fragmented = recut(tls13, 100);
    expect(fragmented.length).toBeGreaterThan(tls13.length);
    expect(peekServerName(fragmented)).toEqual({ complete: true, serverName: 'shop.apps.example' });
    expect(peekServerName(fragmented.subarray(0, fragmented.length - 1))).toEqual({ complete: false });
    expect(peekServerName(recut(tls13, 1))).toEqual({ complete: true, serverName: 'shop.apps.example' });
  });

  it('lower-cases the name and drops a trailing dot', () => {
    expect(peekServerName(syntheticHello([[0, Buffer.from('Shop.Apps.Example.')]]))).toEqual({ complete: true, serverName: 'shop.apps.example' });
  });

  it('skips server_name entries that are not host names, and ignores names no host has', () => {
    expect(peekServerName(syntheticHello([[7, Buffer.from('other')], [0, Buffer.from('b.apps.example')]]))).toEqual({ complete: true, serverName: 'b.apps.example' });
    for (const bad of ['two words.example', 'nul\0.example', 'ünï.example', '.', '', 'a'.repeat(254)]) {
      expect(peekServerName(syntheticHello([[0, Buffer.from(bad)]]))).toEqual({ complete: true });
    }
  });

  it('marks plain HTTP and other non-TLS openings as not TLS', () => {
    expect(peekServerName(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))).toEqual({ complete: true, notTls: true });
    expect(peekServerName(Buffer.from([22, 9]))).toEqual({ complete: true, notTls: true });
    expect(peekServerName(Buffer.from([0x80, 0x2e, 0x01]))).toEqual({ complete: true, notTls: true }); // SSLv2-style hello
    expect(peekServerName(Buffer.from([22]))).toEqual({ complete: false });
    // A first record of impossible length, or a first handshake message other than a ClientHello.
    expect(peekServerName(Buffer.from([22, 3, 1, 0x40, 0x01, 1]))).toEqual({ complete: true, notTls: true });
    expect(peekServerName(Buffer.from([22, 3, 1, 0, 0]))).toEqual({ complete: true, notTls: true });
    expect(peekServerName(Buffer.from([22, 3, 1, 0, 4, 2]))).toEqual({ complete: true, notTls: true });
  });

  it('gives up without a name once 16 KiB came without a whole hello', () => {
    const claimsTooMuch = Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff]);
    expect(peekServerName(claimsTooMuch)).toEqual({ complete: true });
    // A hello announced just under the limit, trickled in 1-byte... 100-byte records.
    const announced = Buffer.concat([Buffer.from([1, 0, 0x3f, 0xf0]), Buffer.alloc(0x3ff0)]);
    const records: Buffer[] = [];
    for (let offset = 0; offset < announced.length; offset += 100) {
      const fragment = announced.subarray(offset, offset + 100);
      records.push(Buffer.from([22, 3, 1, 0, fragment.length]), fragment);
    }
    const trickle = Buffer.concat(records);
    expect(peekServerName(trickle.subarray(0, MAX_CLIENT_HELLO_BYTES - 1))).toEqual({ complete: false });
    expect(peekServerName(trickle.subarray(0, MAX_CLIENT_HELLO_BYTES))).toEqual({ complete: true });
  });

  it('stops at a record that is not a handshake or has an impossible length', () => {
    const hello = recut(tls13, 200);
    const alert = Buffer.concat([hello.subarray(0, 205), Buffer.from([21, 3, 3, 0, 2, 2, 40])]);
    expect(peekServerName(alert)).toEqual({ complete: true });
    const emptyRecord = Buffer.concat([hello.subarray(0, 205), Buffer.from([22, 3, 1, 0, 0])]);
    expect(peekServerName(emptyRecord)).toEqual({ complete: true });
  });

  it('never throws on corrupted hellos or random bytes', () => {
    for (const hello of [tls13, tls12]) {
      for (let i = 0; i < hello.length; i++) {
        for (const value of [0x00, 0xff, hello[i] ^ 0x01]) {
          const corrupted = Buffer.from(hello);
          corrupted[i] = value;
          expect(() => peekServerName(corrupted)).not.toThrow();
        }
      }
    }
    const next = pseudoRandom(42);
    for (let round = 0; round < 5000; round++) {
      const length = next() * 4 + next();
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = next();
      if (round % 2 === 0 && length > 6) bytes.set([22, 3, 1, 0, next(), 1], 0);
      const peek = peekServerName(bytes);
      expect(typeof peek.complete).toBe('boolean');
    }
  });
});

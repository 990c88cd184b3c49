/**
 * What the first bytes of a connection to the TLS port say: wait for more, or the server
 * name the client asked for (RFC 6066 server_name), if it sent one. `notTls` marks bytes that
 * cannot start a TLS handshake (plain HTTP, garbage, a first record or handshake message that
 * is not a ClientHello's): the front closes those at once.
 */
export type ClientHelloPeek = { complete: false } | { complete: true; serverName?: string; notTls?: true };

/** Past this many bytes without a whole ClientHello the peek gives up (no server name). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 22;
const TLS_MAJOR = 3;
/** TLSPlaintext.length may not exceed 2^14. */
const MAX_RECORD = 16 * 1024;
const CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;
const MAX_HOST_NAME = 253;
const DOT = 0x2e;

const EMPTY = Buffer.alloc(0);
const MORE: ClientHelloPeek = { complete: false };
const NO_NAME: ClientHelloPeek = { complete: true };
const NOT_TLS: ClientHelloPeek = { complete: true, notTls: true };

/**
 * Reads the SNI host name from the start of a TLS ClientHello, gathered from one or more
 * handshake records. Pure and bounded: it never throws, copies only when the hello spans
 * several records, and answers `{ complete: false }` only while more bytes could still help.
 * The name comes back lower-cased, without a trailing dot; a name with characters no host
 * name has is ignored (the connection then gets the default certificate).
 */
export function peekServerName(data: Buffer): ClientHelloPeek {
  if (data.length === 0) return MORE;
  if (data[0] !== CONTENT_HANDSHAKE || (data.length > 1 && data[1] !== TLS_MAJOR)) return NOT_TLS;
  if (data.length >= RECORD_HEADER && !validRecordLength(data.readUInt16BE(3))) return NOT_TLS;
  const { handshake, ended } = handshakeBytes(data);
  if (handshake.length > 0 && handshake[0] !== CLIENT_HELLO) return NOT_TLS;
  if (handshake.length >= HANDSHAKE_HEADER) {
    const length = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
    if (handshake.length >= HANDSHAKE_HEADER + length) return clientHello(handshake.subarray(HANDSHAKE_HEADER, HANDSHAKE_HEADER + length));
    if (HANDSHAKE_HEADER + length > MAX_CLIENT_HELLO_BYTES) return NO_NAME;
  }
  return ended || data.length >= MAX_CLIENT_HELLO_BYTES ? NO_NAME : MORE;
}

/**
 * The handshake-protocol bytes carried by the leading handshake records (the last one may be
 * partial); `ended` when a record that follows is of another type (a ChangeCipherSpec or
 * early data after the hello) or malformed, so no more handshake bytes will come.
 */
function handshakeBytes(data: Buffer): { handshake: Buffer; ended: boolean } {
  let parts: Buffer[] | undefined;
  let first: Buffer = EMPTY;
  let offset = 0;
  while (offset + RECORD_HEADER <= data.length) {
    const length = data.readUInt16BE(offset + 3);
    if (data[offset] !== CONTENT_HANDSHAKE || data[offset + 1] !== TLS_MAJOR || !validRecordLength(length)) {
      return { handshake: parts ? Buffer.concat(parts) : first, ended: true };
    }
    const start = offset + RECORD_HEADER;
    const fragment = data.subarray(start, Math.min(start + length, data.length));
    if (offset === 0) first = fragment;
    else (parts ??= [first]).push(fragment);
    offset = start + length;
  }
  return { handshake: parts ? Buffer.concat(parts) : first, ended: false };
}

function validRecordLength(length: number): boolean {
  return length > 0 && length <= MAX_RECORD;
}

/** The ClientHello body (after its 4-byte header): skips to the extensions, finds server_name. */
function clientHello(body: Buffer): ClientHelloPeek {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > body.length) return NO_NAME;
  p += 1 + body[p]; // legacy_session_id
  if (p + 2 > body.length) return NO_NAME;
  p += 2 + body.readUInt16BE(p); // cipher_suites
  if (p + 1 > body.length) return NO_NAME;
  p += 1 + body[p]; // legacy_compression_methods
  if (p + 2 > body.length) return NO_NAME; // no extensions at all
  const end = p + 2 + body.readUInt16BE(p);
  if (end > body.length) return NO_NAME;
  p += 2;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const length = body.readUInt16BE(p + 2);
    p += 4;
    if (p + length > end) return NO_NAME;
    if (type === EXTENSION_SERVER_NAME) return serverNameList(body, p, p + length);
    p += length;
  }
  return NO_NAME;
}

function serverNameList(body: Buffer, start: number, end: number): ClientHelloPeek {
  if (start + 2 > end) return NO_NAME;
  const listEnd = start + 2 + body.readUInt16BE(start);
  if (listEnd > end) return NO_NAME;
  let p = start + 2;
  while (p + 3 <= listEnd) {
    const type = body[p];
    const length = body.readUInt16BE(p + 1);
    p += 3;
    if (p + length > listEnd) return NO_NAME;
    if (type === NAME_TYPE_HOST) {
      const serverName = hostName(body, p, p + length);
      return serverName === undefined ? NO_NAME : { complete: true, serverName };
    }
    p += length;
  }
  return NO_NAME;
}

/** Letters, digits, '-', '_' and '.', at most 253 of them (a trailing dot is dropped). */
function hostName(body: Buffer, start: number, end: number): string | undefined {
  if (end > start && body[end - 1] === DOT) end -= 1;
  if (end <= start || end - start > MAX_HOST_NAME) return undefined;
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = body[i];
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === DOT || c === 0x2d || c === 0x5f) continue;
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else return undefined;
  }
  const name = body.toString('latin1', start, end);
  return upper ? name.toLowerCase() : name;
}


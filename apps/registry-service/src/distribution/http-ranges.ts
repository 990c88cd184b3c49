import { RegistryError } from './errors';

/** `Content-Range` of a chunk (`<start>-<end>`, `bytes ` prefix tolerated): its start offset. */
export function chunkStart(contentRange: string | undefined): number | undefined {
  if (!contentRange) return undefined;
  const match = /^(?:bytes )?(\d+)-(\d+)$/.exec(contentRange.trim());
  if (!match || Number(match[2]) < Number(match[1])) throw new RegistryError('RANGE_INVALID', `invalid Content-Range "${contentRange}"`);
  return Number(match[1]);
}

/** The `Range` header value for an upload of `size` bytes: `0-<last byte>` (`0-0` while empty, as distribution does). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

/**
 * A `Range: bytes=<start>-<end>` request on a blob of `size` bytes, as the inclusive range
 * to send; undefined without one (or with several, which are answered in full). Throws
 * RANGE_INVALID when it cannot be satisfied.
 */
export function requestedRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return undefined;
  const [start, end] = match[1] ? [Number(match[1]), match[2] ? Math.min(Number(match[2]), size - 1) : size - 1] : [Math.max(size - Number(match[2]), 0), size - 1];
  if (start > end || start >= size) throw new RegistryError('RANGE_INVALID', `range ${header} not satisfiable for ${size} bytes`, { size });
  return { start, end };
}

import { ApiError } from './api-error';
import type { AnyResource } from './resource-repository';

/** One page of a list, Kubernetes style: at most `limit` items (0 or absent: all), after the item `continue` points past. */
export interface PageRequest {
  limit?: number;
  continue?: string;
}

export interface ListPage<R> {
  items: R[];
  /** Where the next page starts; absent on the last page. */
  continue?: string;
}

/** The position of an item in list order: oldest first, then namespace and name (neither ever changes). */
type Position = [creationTimestamp: string, namespace: string, name: string];

const positionOf = (resource: AnyResource): Position => [resource.metadata.creationTimestamp, resource.metadata.namespace, resource.metadata.name];

function comparePositions(a: Position, b: Position): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** List order, the same for every store: oldest first, ties by namespace then name. */
export const byListOrder = (a: AnyResource, b: AnyResource): number => comparePositions(positionOf(a), positionOf(b));

/** An opaque token: the position of the last item given, base64url. */
function encodeContinue(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeContinue(token: string): Position {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  if (!Array.isArray(position) || position.length !== 3 || !position.every((part) => typeof part === 'string')) {
    throw ApiError.of('BadRequest', 'invalid continue token: pass metadata.continue of the previous page as it was');
  }
  return position as Position;
}

/** A limit as a request gives it: a whole number from 0; anything else is a 400. */
export function assertLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) throw ApiError.of('BadRequest', `invalid limit: must be a whole number from 0, not ${JSON.stringify(limit)}`);
  return limit;
}

/**
 * The page `request` asks for out of `items` in list order (byListOrder). A token keeps
 * working while the list changes: the next page starts after the position it names, so an
 * item deleted meanwhile is not missed over and one created meanwhile comes last.
 */
export function pageOf<R extends AnyResource>(items: R[], request: PageRequest = {}): ListPage<R> {
  const limit = assertLimit(request.limit);
  let start = 0;
  if (request.continue !== undefined) {
    const after = decodeContinue(request.continue);
    start = items.findIndex((item) => comparePositions(positionOf(item), after) > 0);
    if (start < 0) start = items.length;
  }
  if (!limit || start + limit >= items.length) return { items: items.slice(start) };
  const page = items.slice(start, start + limit);
  return { items: page, continue: encodeContinue(positionOf(page[page.length - 1])) };
}
